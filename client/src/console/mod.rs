//! `setu console`: a web console for the control room, served by the officer's own `setu`
//! on loopback, the way `kubectl proxy` or Syncthing's GUI are.
//!
//! It exists because officers compare Setu with the messaging groups they use today: photos
//! inline, new alerts popping up by themselves, nothing to type but words. The console is a
//! client like the CLI and no more: every page is made from calls to the officer's own node
//! over mutual TLS with the officer's own certificate, so the node authorises (and audits)
//! each of them exactly as it would a `setu` command. Its invariants:
//!
//! - it listens on a loopback address only ([`parse_listen`] refuses any other);
//! - every route answers 401 without the random token printed at start-up or the
//!   `HttpOnly`, `SameSite=Strict` cookie that the token sets ([`auth`]), and only to a
//!   `Host` that names the loopback address, so another site in the browser cannot use it;
//! - nothing the node sends is kept: no files are written, and every response says
//!   `Cache-Control: no-store`, so the browser keeps no copy on disk either;
//! - error pages quote officer input only as a short excerpt ([`excerpt`]).
//!
//! The pages are server-rendered HTML ([`maud`]) with one small embedded script and
//! stylesheet ([`assets`]): no build step, no CDN, so it works in an offline control room.

mod assets;
mod auth;
mod form;
mod i18n;
mod layout;
mod node;
mod peers;
mod photos;
mod records;
mod search;
mod wall;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tonic::transport::Channel;

use crate::config::ClientConfig;
use crate::connect::{endpoint, untimed_endpoint};
use crate::error::ClientError;

pub(crate) use crate::identity::Me;

/// The address `setu console` listens on when `--listen` is not given: loopback, with a
/// port the system picks (the printed address says which).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:0";

/// How often the alert stream's idle connection is pinged, so that a node that vanished
/// without closing the connection is noticed and the browser reconnects.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// How long a ping may go unanswered before the stream's connection counts as lost.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// The most characters of officer input the console quotes back in a message.
const EXCERPT_CHARS: usize = 40;

/// Reads `--listen`: a socket address on a loopback interface.
///
/// The console acts with the officer's certificate for whoever can reach it, so it never
/// listens where another machine could.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let shown = excerpt(text);
    let addr: SocketAddr = text
        .trim()
        .parse()
        .map_err(|_| format!("{shown} is not an address with a port, such as 127.0.0.1:7480"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{shown} is not a loopback address: the console acts with your certificate for \
             whoever can reach it, so it listens on this machine only (127.0.0.1 or [::1])"
        ));
    }
    Ok(addr)
}

/// Quotes officer input for a message: at most [`EXCERPT_CHARS`] characters in quotes, with
/// "…" and the length when it was cut, control characters escaped.
pub(crate) fn excerpt(input: &str) -> String {
    let mut out = String::from("'");
    let mut chars = input.chars();
    for c in chars.by_ref().take(EXCERPT_CHARS) {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    if chars.next().is_some() {
        out.push_str(&format!("…' ({} characters)", input.chars().count()));
    } else {
        out.push('\'');
    }
    out
}

/// What every handler shares: the node connections, the token and who the officer is.
#[derive(Clone)]
pub(crate) struct Console(Arc<Inner>);

/// The shared state behind [`Console`].
pub(crate) struct Inner {
    /// The channel for ordinary calls, each limited by the client's request timeout.
    channel: Channel,
    /// The channel for the alert stream, without a request timeout but with pings.
    watch_channel: Channel,
    /// The secret that the printed address carries and the cookie repeats.
    token: String,
    /// The cookie's name, with the port in it: cookies do not tell ports apart, and two
    /// officers' consoles on one machine must not overwrite each other's.
    cookie: String,
    /// The address the console listens on; requests must name it in `Host`.
    listen: SocketAddr,
    /// The officer, as the certificate names them.
    me: Me,
}

impl Console {
    /// The channel for ordinary calls to the node.
    pub(crate) fn channel(&self) -> Channel {
        self.0.channel.clone()
    }

    /// The channel for the alert stream.
    pub(crate) fn watch_channel(&self) -> Channel {
        self.0.watch_channel.clone()
    }

    /// The officer using the console.
    pub(crate) fn me(&self) -> &Me {
        &self.0.me
    }
}

/// Runs `setu console`: binds `listen`, prints the address with its token as the first line
/// of `out`, then serves until Ctrl-C.
///
/// The connections to the node are opened lazily, so the console starts (and says on each
/// page what went wrong) while the node is unreachable; the certificate and key are checked
/// before anything is bound.
pub async fn run(
    config: &ClientConfig,
    listen: SocketAddr,
    out: &mut (dyn Write + Send),
) -> Result<(), ClientError> {
    let channel = endpoint(config)?.connect_lazy();
    let watch_channel = untimed_endpoint(config)?
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true)
        .connect_lazy();
    let me = Me::from_certificate(&config.cert);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| ClientError::Input(format!("cannot listen on {listen}: {e}")))?;
    let listen = listener
        .local_addr()
        .map_err(|e| ClientError::Input(format!("cannot listen on {listen}: {e}")))?;
    let token = auth::new_token();
    let console = Console(Arc::new(Inner {
        channel,
        watch_channel,
        cookie: format!("setu_console_{}", listen.port()),
        token,
        listen,
        me,
    }));
    let line = format!("console: http://{listen}/?token={}\n", console.0.token);
    out.write_all(line.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| ClientError::File {
            action: "write to",
            path: "standard output".into(),
            source,
        })?;
    eprintln!(
        "Open that address in a browser on this machine; it acts as {}. Ctrl-C stops the console.",
        console.me().describe()
    );
    let app = router(console);
    let serve = axum::serve(listener, app);
    // Alert streams never end by themselves, so a graceful shutdown would wait for ever:
    // Ctrl-C drops the server and its connections at once. Nothing is held that needs saving.
    tokio::select! {
        result = serve => result.map_err(|e| ClientError::Input(format!("the console stopped: {e}"))),
        () = interrupted() => Ok(()),
    }
}

/// Resolves at Ctrl-C; never, when no handler can be installed.
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Every route of the console, behind the token check.
fn router(console: Console) -> Router {
    Router::new()
        .route("/", get(wall::show))
        .route("/wall", get(wall::fragment))
        .route("/events", get(wall::events))
        .route("/alerts/new", get(wall::new_form).post(wall::post_alert))
        .route("/alerts/{id}/ack", post(wall::acknowledge))
        .route("/search", get(search::show))
        .route("/records/new", get(records::new_form).post(records::create))
        .route("/records/{id}", get(records::dossier))
        .route(
            "/records/{id}/edit",
            get(records::edit_form).post(records::update),
        )
        .route("/photos/{sha256}", get(photos::photo))
        .route("/peers", get(peers::show))
        .route("/assets/{name}", get(assets::asset))
        .fallback(layout::not_found)
        .layer(axum::middleware::from_fn_with_state(
            console.clone(),
            auth::guard,
        ))
        .with_state(console)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_are_accepted() {
        assert!(parse_listen("127.0.0.1:7480").is_ok());
        assert!(parse_listen("[::1]:0").is_ok());
        assert!(parse_listen("127.0.0.5:7480").is_ok());
    }

    #[test]
    fn other_addresses_are_refused_with_a_sentence() {
        for text in ["0.0.0.0:7480", "10.20.0.5:7480", "[::]:7480"] {
            let message = parse_listen(text).err().unwrap_or_default();
            assert!(message.contains("not a loopback address"), "{message}");
        }
        let message = parse_listen("localhost").err().unwrap_or_default();
        assert!(message.contains("with a port"), "{message}");
    }

    #[test]
    fn excerpts_are_bounded() {
        let long = "x".repeat(5000);
        let quoted = excerpt(&long);
        assert!(quoted.chars().count() < 100, "{quoted}");
        assert!(quoted.contains("5000 characters"), "{quoted}");
        assert_eq!(excerpt("a\nb"), "'a\\nb'");
    }
}
