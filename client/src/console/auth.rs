//! The console's front door: the token check every request passes, the language choice,
//! and the headers every response carries.
//!
//! The console acts with the officer's certificate, so whoever can talk to it can read what
//! the officer can. Loopback alone is not enough (other users of the machine, and web pages
//! in the officer's own browser, can reach 127.0.0.1), hence: a random token in the printed
//! address, exchanged at the first request for an `HttpOnly`, `SameSite=Strict` cookie (so
//! other sites' pages cannot send it); a `Host` that must name the loopback address (so a
//! DNS-rebound name cannot); an `Origin`, when a form sends one, that must be the console's
//! own; and `Cache-Control: no-store` with a strict content security policy on every
//! response.

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::i18n::Lang;
use super::Console;

/// The cookie that remembers the officer's language.
const LANG_COOKIE: &str = "setu_console_lang";

/// What the guard learnt about a request that handlers need: the language, and the path and
/// query without `lang`, for the language switch links.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// The language of the page.
    pub(crate) lang: Lang,
    /// The request's path with its query, `lang` and `token` left out.
    pub(crate) here: String,
}

impl Ctx {
    /// The label `key` in the page's language.
    pub(crate) fn t(&self, key: &'static str) -> &'static str {
        self.lang.t(key)
    }
}

/// A new random token: 128 bits as 32 hex digits.
pub(crate) fn new_token() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Checks every request before it reaches a route (see the module documentation).
pub(crate) async fn guard(
    State(console): State<Console>,
    mut request: Request,
    next: Next,
) -> Response {
    let inner = &console.0;
    if !host_allowed(request.headers(), inner.listen) {
        return secured(refusal(
            StatusCode::MISDIRECTED_REQUEST,
            "This console answers only at its loopback address.",
        ));
    }
    let query: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let rest: Vec<&(String, String)> = query
        .iter()
        .filter(|(k, _)| k != "token" && k != "lang")
        .collect();
    let mut here = request.uri().path().to_string();
    if !rest.is_empty() {
        here.push('?');
        here.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .extend_pairs(rest.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .finish(),
        );
    }
    if let Some((_, token)) = query.iter().find(|(k, _)| k == "token") {
        if !same(token, &inner.token) {
            return secured(unauthorised());
        }
        // The token leaves the address bar (and the history) at once; the cookie carries on.
        let mut target = here.clone();
        if let Some((_, lang)) = query.iter().find(|(k, _)| k == "lang") {
            target.push(if target.contains('?') { '&' } else { '?' });
            target.push_str("lang=");
            target.push_str(&form_urlencoded::byte_serialize(lang.as_bytes()).collect::<String>());
        }
        let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response();
        let cookie = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict",
            inner.cookie, inner.token
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        return secured(response);
    }
    let cookies = cookies(request.headers());
    let signed_in = cookies
        .iter()
        .any(|(name, value)| *name == inner.cookie && same(value, &inner.token));
    if !signed_in {
        return secured(unauthorised());
    }
    if request.method() != Method::GET && !origin_allowed(request.headers(), inner.listen) {
        return secured(refusal(
            StatusCode::FORBIDDEN,
            "Forms are accepted from the console's own pages only.",
        ));
    }
    let asked = query
        .iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(v));
    let lang = asked
        .or_else(|| {
            cookies
                .iter()
                .find(|(name, _)| *name == LANG_COOKIE)
                .and_then(|(_, v)| Lang::parse(v))
        })
        .unwrap_or_default();
    request.extensions_mut().insert(Ctx { lang, here });
    let mut response = next.run(request).await;
    if let Some(lang) = asked {
        let cookie = format!("{LANG_COOKIE}={}; Path=/; SameSite=Strict", lang.code());
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    secured(response)
}

/// Adds the headers every response carries: nothing is stored by the browser, nothing is
/// framed, no script or style but the console's own runs, no address leaves for another site in
/// a referrer.
fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: under `no-referrer` the browser sends a form's
    // `Origin` as "null", and the console could no longer tell its own forms from others.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The 401 page: what to open instead, in both languages.
fn unauthorised() -> Response {
    refusal(
        StatusCode::UNAUTHORIZED,
        "Open the address that `setu console` printed, with its token. \
         / `setu console` द्वारा छापा गया पता (टोकन सहित) खोलें।",
    )
}

/// A refusal page with `status` and one sentence.
fn refusal(status: StatusCode, sentence: &str) -> Response {
    let body = maud::html! {
        (maud::DOCTYPE)
        html { head { meta charset="utf-8"; title { "Setu console" } } body { p { (sentence) } } }
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into_string(),
    )
        .into_response()
}

/// Whether `Host` names the console's own address (or `localhost` with its port).
fn host_allowed(headers: &HeaderMap, listen: std::net::SocketAddr) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    allowed_hosts(listen).iter().any(|h| h == host)
}

/// The `Host` values that name the console.
fn allowed_hosts(listen: std::net::SocketAddr) -> Vec<String> {
    vec![listen.to_string(), format!("localhost:{}", listen.port())]
}

/// Whether a form's `Origin`, when it sends one, is the console's own.
fn origin_allowed(headers: &HeaderMap, listen: std::net::SocketAddr) -> bool {
    match headers.get(header::ORIGIN).and_then(|h| h.to_str().ok()) {
        None => true,
        Some(origin) => allowed_hosts(listen)
            .iter()
            .any(|h| origin == format!("http://{h}")),
    }
}

/// The cookies of a request, as (name, value) pairs.
fn cookies(headers: &HeaderMap) -> Vec<(&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .collect()
}

/// Compares two secrets in time that does not depend on where they differ.
fn same(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_32_hex_digits_and_differ() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same("abc", "abc"));
        assert!(!same("abd", "abc"));
        assert!(!same("ab", "abc"));
    }

    #[test]
    fn only_the_console_host_is_allowed() -> Result<(), Box<dyn std::error::Error>> {
        let listen: std::net::SocketAddr = "127.0.0.1:7480".parse()?;
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:7480"));
        assert!(host_allowed(&headers, listen));
        headers.insert(header::HOST, HeaderValue::from_static("evil.example:7480"));
        assert!(!host_allowed(&headers, listen));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!origin_allowed(&headers, listen));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:7480"),
        );
        assert!(origin_allowed(&headers, listen));
        Ok(())
    }
}
