//! The `setu alert` commands: post, update, cancel, acknowledge, show, list and watch
//! cross-border alerts.
//!
//! All but `watch` return what they print as one string, like every other command. `watch`
//! runs until Ctrl-C and must show each event the moment it arrives, so it writes and flushes
//! event by event instead ([`watch`]); and since it runs for hours, it rides out the node
//! going away: it reconnects with backoff and resumes after the last event it printed.
//!
//! The client only turns flags into requests; the node judges every value (and who may post
//! or acknowledge) and names the field when it refuses one.
//!
//! Cards name the linked people (each record read with the officer's own certificate) and
//! show the acknowledgement deadline the node computed. `watch` also keeps a timer per FLASH
//! alert this district has not acknowledged ([`crate::overdue`]) and prints the card again
//! under an OVERDUE banner when the node says its deadline has passed.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use setu_proto::v1 as pb;
use setu_proto::v1::alert_service_client::AlertServiceClient;
use tokio::time::Instant;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::cli::{AlertCommand, AlertDetails, AlertList, AlertPost, AlertUpdate, AlertWatch};
use crate::config::ClientConfig;
use crate::connect::{connect, endpoint, transport_error};
use crate::error::ClientError;
use crate::output::{emit, MAX_MESSAGE_BYTES};
use crate::overdue::{Reminders, Verdict};
use crate::render::{
    ack_line, alert_card, alert_card_with_people, alert_table, format_ms, message_card,
    overdue_card, shell_word, Linked,
};
use crate::view::{
    AlertAckView, AlertEventView, AlertListView, AlertMessageView, AlertOverdueEventView,
    AlertOverdueView, AlertView,
};
use crate::when::now_ms;
use crate::words::{AlertKind, AlertPriority};

/// The environment variable that names the client configuration, as in [`crate::cli::Cli`].
const CONFIG_ENV: &str = "SETU_CONFIG";

/// How long `watch` waits before its first reconnection attempt; each failed attempt doubles
/// the wait up to [`LAST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// The longest wait between two reconnection attempts of `watch`.
const LAST_RETRY: Duration = Duration::from_secs(30);

/// How often `watch` pings the node on an idle stream, so that a node that vanished without
/// closing the connection is noticed.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// How long `watch` waits for the answer to a ping before it gives the connection up.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// How long `watch` waits before asking the node again about an overdue candidate when the
/// question failed.
const RECHECK_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// How many alert titles `watch` remembers to name the alerts that acknowledgements refer
/// to; past that it starts afresh (acknowledgements then name the alert by its id).
const TITLES_KEPT: usize = 10_000;

/// Runs one alert command other than `watch` and returns what it prints on stdout.
///
/// `config_path` is the configuration file in use; the next-page hint of `alert list` repeats
/// it as `--config` unless it came from `SETU_CONFIG`.
pub async fn run(
    config: &ClientConfig,
    config_path: &Path,
    command: &AlertCommand,
    json: bool,
) -> Result<String, ClientError> {
    match command {
        AlertCommand::Post(args) => {
            let request = post_request(args, now_ms())?;
            let posted = client(config).await?.post(request).await?.into_inner();
            emit(json, &AlertMessageView::from(posted), |a| {
                format!("{}\n", a.id)
            })
        }
        AlertCommand::Update(args) => {
            let request = update_request(args, now_ms())?;
            let update = client(config).await?.update(request).await?.into_inner();
            emit(json, &AlertMessageView::from(update), |a| {
                format!("{}\n", a.id)
            })
        }
        AlertCommand::Cancel { id, reason } => {
            let cancel = client(config)
                .await?
                .cancel(pb::CancelAlertRequest {
                    alert_id: id.clone(),
                    reason: reason.clone(),
                })
                .await?
                .into_inner();
            emit(json, &AlertMessageView::from(cancel), |_| {
                format!("cancelled alert {id}\n")
            })
        }
        AlertCommand::Ack { id, note } => {
            let ack = client(config)
                .await?
                .acknowledge(pb::AcknowledgeAlertRequest {
                    alert_id: id.clone(),
                    note: note.clone().unwrap_or_default(),
                })
                .await?
                .into_inner();
            emit(json, &AlertAckView::from(ack), |a| {
                format!(
                    "acknowledged alert {id} for {} at {}\n",
                    a.origin,
                    format_ms(a.acked_at_ms)
                )
            })
        }
        AlertCommand::Show { id } => {
            let channel = connect(config).await?;
            let view = AlertView::from(
                alert_client(&channel)
                    .get(pb::GetAlertRequest {
                        alert_id: id.clone(),
                    })
                    .await?
                    .into_inner(),
            );
            if json {
                return emit(json, &view, alert_card);
            }
            let people = crate::linked::person_lines(&channel, &view.alert.record_ids).await;
            Ok(alert_card_with_people(&view, Some(&people)))
        }
        AlertCommand::List(args) => list(config, config_path, args, json).await,
        AlertCommand::Watch(_) => Err(ClientError::Input(
            "`setu alert watch` streams its events as they come; run it through \
             setu_client::run, which writes them to standard output"
                .to_string(),
        )),
    }
}

/// An alert service client on a fresh connection.
async fn client(config: &ClientConfig) -> Result<AlertServiceClient<Channel>, ClientError> {
    Ok(alert_client(&connect(config).await?))
}

/// An alert service client on `channel`.
fn alert_client(channel: &Channel) -> AlertServiceClient<Channel> {
    AlertServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

/// The node's view of one alert: its deadline, state and targets at the node's time.
async fn view_of(channel: &Channel, alert_id: &str) -> Result<AlertView, Status> {
    Ok(AlertView::from(
        alert_client(channel)
            .get(pb::GetAlertRequest {
                alert_id: alert_id.to_string(),
            })
            .await?
            .into_inner(),
    ))
}

/// The expiry `expires_in` after `now_ms`, in Unix milliseconds.
fn expires_at(now_ms: i64, expires_in: Duration) -> Result<i64, ClientError> {
    i64::try_from(expires_in.as_millis())
        .ok()
        .and_then(|ms| now_ms.checked_add(ms))
        .ok_or_else(|| ClientError::Input("--expires-in: the duration is too long".to_string()))
}

/// The request of `alert post`; the expiry counts from `now_ms`.
pub fn post_request(args: &AlertPost, now_ms: i64) -> Result<pb::PostAlertRequest, ClientError> {
    let d = &args.details;
    Ok(pb::PostAlertRequest {
        priority: args.priority.to_proto(),
        category: args.category.to_proto(),
        title: args.title.clone(),
        body: args.body.clone(),
        incident_at_ms: d.incident_at.map_or(0, |t| t.ms),
        incident_place: d.place.clone().unwrap_or_default(),
        record_ids: d.records.clone(),
        vehicles: d.vehicles.clone(),
        phones: d.phones.clone(),
        photos: d.photos.clone(),
        warnings: d.warnings.iter().map(|w| w.to_proto()).collect(),
        action_requested: d.action.clone().unwrap_or_default(),
        targets: args.targets.clone(),
        expires_at_ms: expires_at(now_ms, args.expires_in)?,
    })
}

/// The request of `alert update`: flags not given stay empty, which keeps the stored value;
/// a new expiry counts from `now_ms`. Refuses an update that changes nothing.
pub fn update_request(
    args: &AlertUpdate,
    now_ms: i64,
) -> Result<pb::UpdateAlertRequest, ClientError> {
    let d = &args.details;
    if !has_changes(args) {
        return Err(ClientError::Input(
            "nothing to update: give at least one field flag, e.g. --title, --action or \
             --expires-in (--reason only says what changed)"
                .to_string(),
        ));
    }
    Ok(pb::UpdateAlertRequest {
        alert_id: args.id.clone(),
        priority: args.priority.map_or(0, |p| p.to_proto()),
        category: args.category.map_or(0, |c| c.to_proto()),
        title: args.title.clone().unwrap_or_default(),
        body: args.body.clone().unwrap_or_default(),
        incident_at_ms: d.incident_at.map_or(0, |t| t.ms),
        incident_place: d.place.clone().unwrap_or_default(),
        record_ids: d.records.clone(),
        vehicles: d.vehicles.clone(),
        phones: d.phones.clone(),
        photos: d.photos.clone(),
        warnings: d.warnings.iter().map(|w| w.to_proto()).collect(),
        action_requested: d.action.clone().unwrap_or_default(),
        expires_at_ms: match args.expires_in {
            Some(expires_in) => expires_at(now_ms, expires_in)?,
            None => 0,
        },
        reason: args.reason.clone().unwrap_or_default(),
    })
}

/// Whether an update gives anything new.
fn has_changes(args: &AlertUpdate) -> bool {
    let AlertDetails {
        incident_at,
        place,
        records,
        vehicles,
        phones,
        photos,
        warnings,
        action,
    } = &args.details;
    args.priority.is_some()
        || args.category.is_some()
        || args.title.is_some()
        || args.body.is_some()
        || args.expires_in.is_some()
        || incident_at.is_some()
        || place.as_deref().is_some_and(|p| !p.trim().is_empty())
        || !records.is_empty()
        || !vehicles.is_empty()
        || !phones.is_empty()
        || !photos.is_empty()
        || !warnings.is_empty()
        || action.as_deref().is_some_and(|a| !a.trim().is_empty())
}

/// `alert list`: one page of alerts, newest first.
async fn list(
    config: &ClientConfig,
    config_path: &Path,
    args: &AlertList,
    json: bool,
) -> Result<String, ClientError> {
    let response = client(config)
        .await?
        .list(pb::ListAlertsRequest {
            open_only: args.open,
            overdue_only: args.overdue,
            page_size: args.limit.unwrap_or(0),
            page_token: args.page_token.clone().unwrap_or_default(),
        })
        .await?
        .into_inner();
    let page = AlertListView::from(response);
    let from_env = std::env::var_os(CONFIG_ENV).is_some_and(|p| Path::new(&p) == config_path);
    let repeat = list_command(args, (!from_env).then_some(config_path));
    emit(json, &page, |p| alert_table(p, &repeat))
}

/// The command line that lists the same alerts again, without `--page-token`, quoted for a
/// POSIX shell: the next-page hint appends the new token to it.
pub fn list_command(args: &AlertList, config: Option<&Path>) -> String {
    let mut words: Vec<String> = vec!["setu".to_string()];
    if let Some(path) = config {
        words.push("--config".to_string());
        words.push(shell_word(&path.to_string_lossy()));
    }
    words.extend(["alert".to_string(), "list".to_string()]);
    if args.open {
        words.push("--open".to_string());
    }
    if args.overdue {
        words.push("--overdue".to_string());
    }
    if let Some(limit) = args.limit {
        words.push("--limit".to_string());
        words.push(limit.to_string());
    }
    words.join(" ")
}

/// Runs `alert watch`: writes every event to `out` as it comes, flushing each, until Ctrl-C
/// (which ends it with success) or a failure that retrying cannot cure.
///
/// `terminal` says whether `out` is a terminal, which colours priorities and rings the bell
/// for flash alerts. When the stream breaks because the node went away, a notice goes to
/// standard error and the watch reconnects after 1 s, doubling the wait up to 30 s, asking
/// for the events after the last one printed. Refusals (a bad `--after`, a certificate or
/// role the node refuses) end the watch with the node's explanation, and so does a node
/// that cannot be reached at the start.
pub async fn watch(
    config: &ClientConfig,
    args: &AlertWatch,
    json: bool,
    terminal: bool,
    out: &mut (dyn Write + Send),
) -> Result<(), ClientError> {
    // Without a Ctrl-C handler the default (the process ends at once) is the best there is.
    let interrupted = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = follow(config, args, json, terminal, out) => result,
        () = interrupted => Ok(()),
    }
}

/// Where the watch has got to, carried across reconnections.
struct Progress {
    /// The id of the last event printed (or `--after` until one is).
    after_id: Option<String>,
    /// The node's feed position of the last event printed: resuming from it is exact even
    /// when that event was replaced since (a district acknowledging twice).
    after_position: u64,
    /// `--live`: only what happens from now on, until an event has been printed.
    live_only: bool,
    /// The titles of the alerts seen, by alert id, to name them in acknowledgement lines.
    titles: HashMap<String, String>,
    /// The FLASH alerts this district still owes an acknowledgement, with their timers.
    reminders: Reminders,
}

impl Progress {
    /// The request that continues the watch from here.
    fn request(&self) -> pb::WatchAlertsRequest {
        match &self.after_id {
            Some(id) => pb::WatchAlertsRequest {
                after_id: id.clone(),
                live_only: false,
                after_position: self.after_position,
            },
            // With --live and nothing printed yet, events during a break are not replayed:
            // there is no event to resume after, and the officer asked for "from now on".
            None => pb::WatchAlertsRequest {
                after_id: String::new(),
                live_only: self.live_only,
                after_position: 0,
            },
        }
    }

    /// What the node knows of an event's alert that the event itself does not carry: the
    /// linked people (for the human card) and the node's view of the alert, with its
    /// deadline (for the card and the re-ring timer). Only alerts and updates with a deadline
    /// (FLASH, IMMEDIATE) need the view; a question that fails leaves the card without it.
    async fn look_up(
        &mut self,
        channel: &Channel,
        event: &pb::AlertEvent,
        json: bool,
    ) -> (Linked, Option<AlertView>) {
        let Some(pb::alert_event::Event::Alert(alert)) = &event.event else {
            return (Linked::default(), None);
        };
        let kind = AlertKind::from_proto(alert.kind);
        if kind == Some(AlertKind::Cancel) {
            return (Linked::default(), None);
        }
        let priority = AlertPriority::from_proto(alert.priority);
        let needs_view = if json {
            priority == Some(AlertPriority::Flash)
        } else {
            matches!(
                priority,
                Some(AlertPriority::Flash | AlertPriority::Immediate)
            )
        };
        let alert_id = if alert.refers_to.is_empty() {
            &alert.id
        } else {
            &alert.refers_to
        };
        let view = if needs_view {
            view_of(channel, alert_id).await.ok()
        } else {
            None
        };
        let people = if json || alert.record_ids.is_empty() {
            None
        } else {
            Some(crate::linked::person_lines(channel, &alert.record_ids).await)
        };
        let deadline = view
            .as_ref()
            .filter(|v| v.ack_deadline_ms != 0)
            .map(|v| (v.ack_deadline_ms, v.as_of_ms));
        (Linked { people, deadline }, view)
    }

    /// Keeps the re-ring timers up to date with an event and the node's view of its alert.
    fn track(&mut self, event: &AlertEventView, view: Option<&AlertView>) {
        if let Some(view) = view {
            self.reminders.note(view, Instant::now());
        }
        if let Some(alert) = &event.alert {
            if alert.kind == Some(AlertKind::Cancel) {
                self.reminders.cancelled(alert.alert_id());
            }
        }
        if let Some(ack) = &event.ack {
            self.reminders.acknowledged(ack);
        }
    }

    /// Asks the node about every alert whose timer has run out and prints the OVERDUE card
    /// (or JSON line) of each one the node says is overdue for this district; the others
    /// are timed again or forgotten.
    async fn ring_due(
        &mut self,
        channel: &Channel,
        json: bool,
        terminal: bool,
        out: &mut (dyn Write + Send),
    ) -> std::io::Result<()> {
        for alert_id in self.reminders.take_due(Instant::now()) {
            let view = match view_of(channel, &alert_id).await {
                Ok(view) => view,
                Err(status) if status.code() == Code::NotFound => continue,
                Err(_) => {
                    self.reminders
                        .retry(&alert_id, Instant::now() + RECHECK_AFTER_FAILURE);
                    continue;
                }
            };
            match self.reminders.verdict(&view) {
                Verdict::Ring => {}
                Verdict::Later(_) => {
                    self.reminders.note(&view, Instant::now());
                    continue;
                }
                Verdict::Never => continue,
            }
            let district = self.reminders.district().to_string();
            let text = if json {
                let event = AlertOverdueEventView {
                    overdue: AlertOverdueView::of(&view, &district),
                };
                let mut line = serde_json::to_string(&event).map_err(std::io::Error::other)?;
                line.push('\n');
                line
            } else {
                let people = if view.alert.record_ids.is_empty() {
                    None
                } else {
                    Some(crate::linked::person_lines(channel, &view.alert.record_ids).await)
                };
                let linked = Linked {
                    people,
                    deadline: Some((view.ack_deadline_ms, view.as_of_ms)),
                };
                let mut text = overdue_card(&view, &district, &linked, terminal);
                text.push('\n');
                text
            };
            self.reminders.rang(&alert_id);
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
        Ok(())
    }

    /// Writes one event to `out` and flushes it, then remembers it as the last one printed.
    fn print(
        &mut self,
        event: pb::AlertEvent,
        linked: &Linked,
        json: bool,
        terminal: bool,
        out: &mut (dyn Write + Send),
    ) -> std::io::Result<()> {
        let position = event.position;
        let event = AlertEventView::from(event);
        let text = if json {
            let mut line = serde_json::to_string(&event).map_err(std::io::Error::other)?;
            line.push('\n');
            line
        } else {
            self.human(&event, linked, terminal)
        };
        out.write_all(text.as_bytes())?;
        out.flush()?;
        if let Some(id) = event.id() {
            self.after_id = Some(id.to_string());
            self.after_position = position;
        }
        Ok(())
    }

    /// The human text of one event: a card and a blank line for an alert message, one line
    /// for an acknowledgement.
    fn human(&mut self, event: &AlertEventView, linked: &Linked, terminal: bool) -> String {
        if let Some(alert) = &event.alert {
            if !alert.title.trim().is_empty() {
                if self.titles.len() >= TITLES_KEPT {
                    self.titles.clear();
                }
                self.titles
                    .insert(alert.alert_id().to_string(), alert.title.clone());
            }
            let mut text = message_card(alert, linked, terminal);
            text.push('\n');
            return text;
        }
        match &event.ack {
            Some(ack) => ack_line(ack, self.titles.get(&ack.alert_id).map(String::as_str)),
            None => String::new(),
        }
    }
}

/// Why one stream of events ended.
enum Break {
    /// The node ended the stream (e.g. while shutting down): worth reconnecting.
    Ended,
    /// The connection to the node failed, or the node was unavailable: worth reconnecting.
    Transient(ClientError),
    /// The node refused the watch, or TLS or the configuration failed: retrying cannot help.
    Permanent(ClientError),
    /// Standard output could not be written.
    Output(std::io::Error),
}

/// What one stream of events achieved before it ended.
#[derive(Default)]
struct Stream {
    /// The node accepted the watch.
    opened: bool,
    /// How many events arrived.
    events: u64,
}

/// Watches, reconnecting whenever a stream breaks for a reason that may heal.
async fn follow(
    config: &ClientConfig,
    args: &AlertWatch,
    json: bool,
    terminal: bool,
    out: &mut (dyn Write + Send),
) -> Result<(), ClientError> {
    let me = crate::identity::Me::from_certificate(&config.cert);
    let mut progress = Progress {
        after_id: args.after.clone(),
        after_position: 0,
        live_only: args.live,
        titles: HashMap::new(),
        reminders: Reminders::new(&me.district),
    };
    let mut wait = FIRST_RETRY;
    let mut reconnecting = false;
    let mut ever_opened = false;
    loop {
        let started = Instant::now();
        let mut stream = Stream::default();
        let broken = stream_once(
            config,
            &mut progress,
            json,
            terminal,
            out,
            &mut stream,
            reconnecting,
        )
        .await;
        ever_opened |= stream.opened;
        let reason = match broken {
            Break::Ended => "the node ended the stream".to_string(),
            Break::Transient(error @ ClientError::CallCutOff { .. }) => {
                // A refused certificate can look like a call cut off (see crate::probe).
                if let Some(refusal) = crate::probe::refusal(config).await {
                    return Err(refusal);
                }
                let error = error.at_address(&config.address);
                if !ever_opened {
                    return Err(error);
                }
                error.to_string()
            }
            // A node that was never reached is more likely a wrong address than one that
            // went away: say so at once, like every other command.
            Break::Transient(error) if !ever_opened => return Err(error),
            Break::Transient(error) => error.to_string(),
            Break::Permanent(error) => return Err(error),
            Break::Output(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                // Whoever read the events has stopped reading; there is no one to tell.
                return Ok(());
            }
            Break::Output(source) => {
                return Err(ClientError::File {
                    action: "write to",
                    path: "standard output".into(),
                    source,
                })
            }
        };
        // A stream that delivered or lasted shows the node is back: start the waits afresh.
        if stream.opened && (stream.events > 0 || started.elapsed() >= LAST_RETRY) {
            wait = FIRST_RETRY;
        }
        let resume = match &progress.after_id {
            Some(id) => format!(", resuming after {id}"),
            None => String::new(),
        };
        eprintln!(
            "alert watch: the stream broke ({reason}); reconnecting in {}s{resume}",
            wait.as_secs()
        );
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(LAST_RETRY);
        reconnecting = true;
    }
}

/// Opens one stream of events and prints them until it ends; always ends in a [`Break`].
async fn stream_once(
    config: &ClientConfig,
    progress: &mut Progress,
    json: bool,
    terminal: bool,
    out: &mut (dyn Write + Send),
    stream: &mut Stream,
    reconnecting: bool,
) -> Break {
    let channel = match watch_channel(config).await {
        Ok(channel) => channel,
        Err(error @ (ClientError::Unreachable { .. } | ClientError::CallCutOff { .. })) => {
            return Break::Transient(error)
        }
        Err(error) => return Break::Permanent(error),
    };
    let mut events = match alert_client(&channel).watch(progress.request()).await {
        Ok(response) => response.into_inner(),
        Err(status) => return classify(&status),
    };
    stream.opened = true;
    if reconnecting {
        eprintln!("alert watch: reconnected to {}", config.address);
    }
    loop {
        // The re-ring timer runs beside the stream: whichever comes first is handled.
        // `Streaming::message` keeps its progress in the stream, so losing the race loses
        // nothing.
        let due = progress.reminders.next_due();
        let timer = async {
            match due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            message = events.message() => match message {
                Ok(Some(event)) => {
                    stream.events += 1;
                    let (linked, view) = progress.look_up(&channel, &event, json).await;
                    progress.track(&AlertEventView::from(event.clone()), view.as_ref());
                    if let Err(error) = progress.print(event, &linked, json, terminal, out) {
                        return Break::Output(error);
                    }
                }
                Ok(None) => return Break::Ended,
                Err(status) => return classify(&status),
            },
            () = timer => {
                if let Err(error) = progress.ring_due(&channel, json, terminal, out).await {
                    return Break::Output(error);
                }
            }
        }
    }
}

/// A channel for a long-lived stream: the usual endpoint, with HTTP/2 pings on idle
/// connections so that a vanished node is noticed.
async fn watch_channel(config: &ClientConfig) -> Result<Channel, ClientError> {
    endpoint(config)?
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true)
        .connect()
        .await
        .map_err(|e| transport_error(&config.address, &e))
}

/// Sorts a failed call into what retrying may cure (the node unavailable, the connection
/// cut) and what it cannot (a refusal by the node, a TLS failure).
fn classify(status: &Status) -> Break {
    let permanent_code = matches!(
        status.code(),
        Code::InvalidArgument
            | Code::PermissionDenied
            | Code::Unauthenticated
            | Code::NotFound
            | Code::FailedPrecondition
            | Code::Unimplemented
            | Code::OutOfRange
            | Code::AlreadyExists
            | Code::DataLoss
    );
    let error = ClientError::from(status.clone());
    match error {
        _ if permanent_code => Break::Permanent(error),
        ClientError::CertificateRefused { .. }
        | ClientError::NodeUntrusted { .. }
        | ClientError::Tls { .. } => Break::Permanent(error),
        _ => Break::Transient(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::words::Warning;
    use clap::Parser;

    /// The alert command of `setu alert ARGS...`.
    fn parse(args: &[&str]) -> Result<AlertCommand, clap::Error> {
        let cli = Cli::try_parse_from(["setu", "alert"].iter().chain(args.iter()).copied())?;
        match cli.command {
            Command::Alert(command) => Ok(command),
            _ => Err(clap::Error::raw(
                clap::error::ErrorKind::InvalidSubcommand,
                "not parsed as alert",
            )),
        }
    }

    /// The usage error `setu alert ARGS...` gives, or "accepted" when it gives none.
    fn error(args: &[&str]) -> String {
        match parse(args) {
            Ok(_) => "accepted".to_string(),
            Err(e) => e.to_string(),
        }
    }

    const NOW: i64 = 1_760_000_000_000;

    fn post_args(extra: &[&str]) -> Result<AlertPost, clap::Error> {
        let mut args = vec![
            "post",
            "--priority",
            "flash",
            "--category",
            "robbery",
            "--title",
            "Cash van robbed at Test Nagar",
            "--body",
            "Four men on two motorcycles.",
            "--expires-in",
            "2h",
        ];
        args.extend_from_slice(extra);
        match parse(&args)? {
            AlertCommand::Post(post) => Ok(post),
            _ => Err(clap::Error::raw(
                clap::error::ErrorKind::InvalidSubcommand,
                "not parsed as post",
            )),
        }
    }

    #[test]
    fn post_flags_reach_the_request() -> Result<(), Box<dyn std::error::Error>> {
        let post = post_args(&[
            "--incident-at",
            "2025-10-09T08:30:00Z",
            "--place",
            "Test Nagar",
            "--target",
            "wb-asansol-durgapur",
            "--target",
            "br-gaya",
            "--record",
            "r1",
            "--vehicle",
            "JH 99 ZZ 0001",
            "--phone",
            "+91 90000 00001",
            "--photo",
            &"AB".repeat(32),
            "--warning",
            "armed",
            "--action",
            "stop and detain",
        ])?;
        let r = post_request(&post, NOW)?;
        assert_eq!(r.priority, pb::AlertPriority::Flash as i32);
        assert_eq!(r.category, pb::AlertCategory::Robbery as i32);
        assert_eq!(r.title, "Cash van robbed at Test Nagar");
        assert_eq!(r.expires_at_ms, NOW + 2 * 3_600_000);
        assert_eq!(r.incident_at_ms, 1_759_998_600_000);
        assert_eq!(r.incident_place, "Test Nagar");
        assert_eq!(r.targets, vec!["wb-asansol-durgapur", "br-gaya"]);
        assert_eq!(r.record_ids, vec!["r1"]);
        assert_eq!(r.photos, vec!["ab".repeat(32)]);
        assert_eq!(r.warnings, vec![Warning::Armed.to_proto()]);
        assert_eq!(r.action_requested, "stop and detain");
        let bare = post_request(&post_args(&[])?, NOW)?;
        assert!(bare.targets.is_empty(), "no --target means every peer");
        assert_eq!(bare.incident_at_ms, 0);
        Ok(())
    }

    #[test]
    fn usage_mistakes_name_the_flag() {
        let e = error(&["post", "--priority", "urgent"]);
        assert!(e.contains("--priority") && e.contains("flash"), "{e}");
        let e = error(&["post", "--category", "theft"]);
        assert!(
            e.contains("--category") && e.contains("wanted-person"),
            "{e}"
        );
        let e = error(&[
            "post",
            "--priority",
            "flash",
            "--category",
            "robbery",
            "--title",
            "t",
            "--body",
            "b",
            "--expires-in",
            "xyz",
        ]);
        assert!(
            e.contains("--expires-in") && e.contains("e.g. 30m, 2h"),
            "{e}"
        );
        let e = error(&[
            "post",
            "--priority",
            "flash",
            "--category",
            "robbery",
            "--title",
            "t",
            "--body",
            "b",
        ]);
        assert!(e.contains("--expires-in"), "{e}");
        let e = error(&["cancel", "a1"]);
        assert!(e.contains("--reason"), "{e}");
        let e = error(&["cancel", "a1", "--reason", " "]);
        assert!(e.contains("--reason"), "{e}");
        let e = error(&["update", "a1", "--warning", "rude"]);
        assert!(e.contains("--warning"), "{e}");
        let e = error(&["list", "--limit", "0"]);
        assert!(e.contains("--limit"), "{e}");
        let e = error(&["watch", "--after", "x", "--live"]);
        assert!(e.contains("--live") && e.contains("--after"), "{e}");
        assert_eq!(error(&["ack", "a1"]), "accepted");
        assert_eq!(error(&["watch", "--live"]), "accepted");
    }

    #[test]
    fn updates_send_only_what_changes() -> Result<(), Box<dyn std::error::Error>> {
        let AlertCommand::Update(args) = parse(&[
            "update",
            "a1",
            "--title",
            "Two suspects identified",
            "--expires-in",
            "30m",
            "--reason",
            "new leads",
        ])?
        else {
            return Err("not parsed as update".into());
        };
        let r = update_request(&args, NOW)?;
        assert_eq!(r.alert_id, "a1");
        assert_eq!(r.title, "Two suspects identified");
        assert_eq!(r.expires_at_ms, NOW + 30 * 60_000);
        assert_eq!(r.reason, "new leads");
        assert_eq!(
            (r.priority, r.category),
            (0, 0),
            "unset keeps the stored value"
        );
        assert!(r.body.is_empty() && r.vehicles.is_empty());

        let AlertCommand::Update(reason_only) = parse(&["update", "a1", "--reason", "x"])? else {
            return Err("not parsed as update".into());
        };
        let refused = update_request(&reason_only, NOW);
        assert!(
            matches!(&refused, Err(ClientError::Input(m)) if m.contains("nothing to update")),
            "{refused:?}"
        );
        Ok(())
    }

    #[test]
    fn the_list_command_repeats_its_filters() {
        let args = AlertList {
            open: true,
            overdue: true,
            limit: Some(5),
            page_token: Some("old".into()),
        };
        assert_eq!(
            list_command(&args, Some(Path::new("/etc/setu/my officer.toml"))),
            "setu --config '/etc/setu/my officer.toml' alert list --open --overdue --limit 5"
        );
        assert_eq!(list_command(&AlertList::default(), None), "setu alert list");
    }

    #[test]
    fn watch_prints_each_event_and_remembers_where_it_got_to() -> std::io::Result<()> {
        let mut progress = Progress {
            after_id: None,
            after_position: 0,
            live_only: true,
            titles: HashMap::new(),
            reminders: Reminders::new("wb-asansol-durgapur"),
        };
        assert!(progress.request().live_only);
        let mut out: Vec<u8> = Vec::new();
        let alert = pb::Alert {
            id: "a1".into(),
            origin: "jh-dhanbad".into(),
            kind: pb::AlertKind::Alert as i32,
            priority: pb::AlertPriority::Flash as i32,
            title: "Cash van robbed".into(),
            ..Default::default()
        };
        progress.print(
            pb::AlertEvent {
                event: Some(pb::alert_event::Event::Alert(alert)),
                position: 1,
            },
            &Linked::default(),
            false,
            false,
            &mut out,
        )?;
        let ack = pb::AlertAck {
            id: "k1".into(),
            alert_id: "a1".into(),
            origin: "wb-asansol-durgapur".into(),
            officer_badge: "WB-2001".into(),
            note: "checking".into(),
            ..Default::default()
        };
        progress.print(
            pb::AlertEvent {
                event: Some(pb::alert_event::Event::Ack(ack.clone())),
                position: 2,
            },
            &Linked::default(),
            false,
            false,
            &mut out,
        )?;
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(text.starts_with("FLASH ALERT a1"), "{text}");
        assert!(
            text.ends_with(
                "\n\nACK wb-asansol-durgapur acknowledged \"Cash van robbed\" — WB-2001: checking\n"
            ),
            "{text}"
        );
        let request = progress.request();
        assert_eq!(
            (request.after_id.as_str(), request.live_only),
            ("k1", false)
        );

        let mut json: Vec<u8> = Vec::new();
        progress.print(
            pb::AlertEvent {
                event: Some(pb::alert_event::Event::Ack(ack)),
                position: 3,
            },
            &Linked::default(),
            true,
            false,
            &mut json,
        )?;
        let line = String::from_utf8_lossy(&json).into_owned();
        assert!(line.ends_with('\n') && line.lines().count() == 1, "{line}");
        let value: serde_json::Value = serde_json::from_str(&line)?;
        assert_eq!(value["position"], 3);
        assert_eq!(value["ack"]["note"], "checking");
        Ok(())
    }

    #[test]
    fn refusals_end_the_watch_and_outages_do_not() {
        for status in [
            Status::invalid_argument("after_id: unknown event"),
            Status::permission_denied("officer certificates cannot watch"),
            Status::unauthenticated("no certificate"),
            Status::not_found("no such event"),
            Status::failed_precondition("x"),
        ] {
            assert!(
                matches!(classify(&status), Break::Permanent(_)),
                "{status:?}"
            );
        }
        for status in [
            Status::unavailable("node is shutting down"),
            Status::cancelled("operation was canceled"),
            Status::unknown("transport error"),
        ] {
            assert!(
                matches!(classify(&status), Break::Transient(_)),
                "{status:?}"
            );
        }
    }
}
