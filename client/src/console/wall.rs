//! The alert wall (`/`), its live feed (`/events`), acknowledgement from the wall
//! (`/alerts/{id}/ack`) and the liaison's form for a new alert (`/alerts/new`).
//!
//! The wall is the control room's screen: open alerts, most urgent first (FLASH, then
//! IMMEDIATE, then ROUTINE; within each, the nearest acknowledgement deadline first), each
//! with a countdown to its deadline, red and sounding (for FLASH) once overdue. The page
//! holds a server-sent event stream fed by the node's `AlertService/Watch`; each event makes
//! the script fetch `/wall` again, a fragment rendered from `AlertService/List`, so the
//! cards always show the node's own account of states and acknowledgements.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use setu_proto::v1 as pb;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use super::auth::Ctx;
use super::form::{checkboxes, field, select, text_area, text_input, Errors, Form};
use super::layout::{badge, banner, html_response, page, page_with_status, time_ms};
use super::node::Failure;
use super::records::see_other;
use super::{excerpt, Console};
use crate::parse::parse_duration;
use crate::when::now_ms;
use crate::words::{AlertCategory, AlertPriority, Warning};

/// The most pages of open alerts the wall reads (each as large as the node allows).
const MAX_PAGES: usize = 10;

/// The most linked people named on one card.
const MAX_PEOPLE_NAMED: usize = 5;

/// How long the browser waits before it reconnects a broken event stream.
const RETRY: Duration = Duration::from_secs(2);

/// The fields of the alert form, as the form names them.
const FIELDS: &[&str] = &[
    "priority",
    "category",
    "title",
    "body",
    "expires",
    "targets",
    "place",
    "incident_at",
    "action",
    "vehicles",
    "phones",
    "warnings",
    "records",
    "photos",
];

/// `GET /`: the wall.
pub(crate) async fn show(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    let cards = cards(&console, &ctx).await;
    page(&console, &ctx, ctx.t("Alerts"), shell(&ctx, cards, None))
}

/// The wall's frame around its cards: the live indicator, the sound switch and the labels
/// the script writes countdowns with.
fn shell(ctx: &Ctx, cards: Markup, failure: Option<&Failure>) -> Markup {
    html! {
        section #wall data-due=(ctx.t("acknowledge within")) data-overdue=(ctx.t("overdue by"))
            data-sound-on=(ctx.t("Sound on")) data-sound-off=(ctx.t("Sound off")) {
            header.wall-head {
                h1 { (ctx.t("Open alerts")) }
                span #live.live data-live=(ctx.t("live")) data-reconnecting=(ctx.t("reconnecting")) { "…" }
                button #sound type="button" { (ctx.t("Sound off")) }
            }
            @if let Some(failure) = failure { (banner(ctx, failure)) }
            div #cards { (cards) }
        }
    }
}

/// `GET /wall`: the cards alone, for the script to swap in.
pub(crate) async fn fragment(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    html_response(StatusCode::OK, cards(&console, &ctx).await)
}

/// The open alerts as cards, most urgent first.
async fn cards(console: &Console, ctx: &Ctx) -> Markup {
    let mut views = Vec::new();
    let mut page_token = String::new();
    for _ in 0..MAX_PAGES {
        let response = console
            .alerts()
            .list(pb::ListAlertsRequest {
                open_only: true,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await;
        match response {
            Ok(page) => {
                let page = page.into_inner();
                views.extend(page.alerts);
                page_token = page.next_page_token;
                if page_token.is_empty() {
                    break;
                }
            }
            Err(status) => return banner(ctx, &Failure::from(status)),
        }
    }
    views.sort_by_key(urgency);
    let mut names = HashMap::new();
    for view in &views {
        if let Some(alert) = &view.alert {
            for id in alert.record_ids.iter().take(MAX_PEOPLE_NAMED) {
                if names.contains_key(id) {
                    continue;
                }
                let name = console
                    .records()
                    .get(pb::GetRecordRequest { id: id.clone() })
                    .await
                    .map(|r| r.into_inner().name)
                    .unwrap_or_default();
                names.insert(id.clone(), name);
            }
        }
    }
    let now = views
        .iter()
        .map(|v| v.as_of_ms)
        .max()
        .unwrap_or_else(now_ms);
    html! {
        div.cards data-now=(now) {
            @if views.is_empty() { p.none { (ctx.t("No open alerts.")) } }
            @for view in &views { (card(console, ctx, view, &names)) }
        }
    }
}

/// The order of the wall: priority, then the nearest pending deadline, then the newest.
fn urgency(view: &pb::AlertView) -> (u8, i64, i64) {
    let alert = view.alert.clone().unwrap_or_default();
    let rank = match AlertPriority::from_proto(alert.priority) {
        Some(AlertPriority::Flash) => 0,
        Some(AlertPriority::Immediate) => 1,
        Some(AlertPriority::Routine) => 2,
        None => 3,
    };
    let deadline = if pending(view) && view.ack_deadline_ms > 0 {
        view.ack_deadline_ms
    } else {
        i64::MAX
    };
    (rank, deadline, -alert.posted_at_ms)
}

/// Whether some target district this node knows of has not acknowledged yet.
fn pending(view: &pb::AlertView) -> bool {
    view.targets.iter().any(|t| t.ack.is_none())
}

/// One alert's card.
fn card(
    console: &Console,
    ctx: &Ctx,
    view: &pb::AlertView,
    names: &HashMap<String, String>,
) -> Markup {
    let Some(a) = &view.alert else {
        return html! {};
    };
    let me = console.me();
    let priority = AlertPriority::from_proto(a.priority).map_or("routine", AlertPriority::word);
    let category = AlertCategory::from_proto(a.category).map_or("other", AlertCategory::word);
    let overdue = view.targets.iter().any(|t| t.overdue);
    let countdown = pending(view) && view.ack_deadline_ms > 0;
    let mine = view.targets.iter().find(|t| t.district == me.district);
    let may_ack = me.is_liaison() && a.origin != me.district && mine.is_some();
    html! {
        article.alert.(priority).overdue[overdue] id={ "alert-" (a.id) } data-id=(a.id) data-priority=(priority)
            data-deadline=[countdown.then_some(view.ack_deadline_ms)] {
            header.alert-head {
                (badge(ctx, "priority", priority))
                " " span.category { (ctx.t(category)) }
                " " span.route { (a.origin) " → " (a.targets.join(", ")) }
            }
            h2.alert-title { (a.title) }
            p.countdown aria-live="polite" {}
            p.body { (a.body) }
            dl.alert-facts {
                @if !a.incident_place.is_empty() { dt { (ctx.t("Place")) } dd { (a.incident_place) } }
                @if a.incident_at_ms > 0 { dt { (ctx.t("Incident")) } dd { (time_ms(ctx, a.incident_at_ms)) } }
                @if !a.action_requested.is_empty() { dt { (ctx.t("Action requested")) } dd { (a.action_requested) } }
                @if !a.vehicles.is_empty() { dt { (ctx.t("Vehicles")) } dd { (a.vehicles.join(", ")) } }
                @if !a.phones.is_empty() { dt { (ctx.t("Phones")) } dd { (a.phones.join(", ")) } }
                @if !a.warnings.is_empty() {
                    dt { (ctx.t("Warnings")) }
                    dd { @for w in a.warnings.iter().filter_map(|w| Warning::from_proto(*w)) { (badge(ctx, "warning", w.word())) " " } }
                }
                @if !a.record_ids.is_empty() {
                    dt { (ctx.t("People")) }
                    dd { @for id in &a.record_ids {
                        @let name = names.get(id).filter(|n| !n.is_empty());
                        a.person href={ "/records/" (id) } { (name.map_or(id.as_str(), String::as_str)) } " "
                    } }
                }
                dt { (ctx.t("Posted")) }
                dd { (time_ms(ctx, a.posted_at_ms)) " " (ctx.t("by")) " " (a.author_name) " (" (a.author_badge) ")" }
                dt { (ctx.t("Expires")) } dd { (time_ms(ctx, a.expires_at_ms)) }
            }
            @if !a.photos.is_empty() {
                p.alert-photos { @for sha in &a.photos { img.thumb src={ "/photos/" (sha) } alt=""; } }
            }
            ul.targets {
                @for t in &view.targets {
                    li.target.acked[t.ack.is_some()].late[t.overdue] data-district=(t.district) {
                        strong { (t.district) } ": "
                        @match &t.ack {
                            Some(ack) => {
                                (ctx.t("acknowledged by")) " " (ack.officer_name) " (" (ack.officer_badge) ") "
                                (time_ms(ctx, ack.acked_at_ms))
                                @if !ack.note.is_empty() { " — " q.note { (ack.note) } }
                            }
                            None => {
                                @if t.overdue { (ctx.t("overdue")) } @else { (ctx.t("awaiting acknowledgement")) }
                            }
                        }
                    }
                }
            }
            @if may_ack {
                form.ack method="post" action={ "/alerts/" (a.id) "/ack" } {
                    input type="text" name="note" id={ "note-" (a.id) } placeholder=(ctx.t("What was done"));
                    button type="submit" id={ "ack-" (a.id) } { (ctx.t("Acknowledge")) }
                }
            }
        }
    }
}

/// `GET /events`: the node's alert feed as server-sent events, one `alert` event per alert
/// message or acknowledgement, its id the feed position so that a reconnecting browser
/// (`Last-Event-ID`) resumes where it was. The stream starts with the open alerts' events.
pub(crate) async fn events(State(console): State<Console>, headers: HeaderMap) -> Response {
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let (sender, receiver) = tokio::sync::mpsc::channel::<Event>(64);
    tokio::spawn(feed(console, after, sender));
    let stream = ReceiverStream::new(receiver).map(Ok::<Event, Infallible>);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Streams the node's alert events into `sender` until the browser goes away or the node's
/// stream ends (the browser then reconnects).
async fn feed(console: Console, after: u64, sender: tokio::sync::mpsc::Sender<Event>) {
    let request = |after_position| pb::WatchAlertsRequest {
        after_id: String::new(),
        live_only: false,
        after_position,
    };
    let mut client = console.alert_stream();
    let mut opened = client.watch(request(after)).await;
    if after != 0 && matches!(&opened, Err(s) if s.code() == tonic::Code::InvalidArgument) {
        // The position is unknown here (the node's database was restored): start afresh.
        opened = client.watch(request(0)).await;
    }
    let mut stream = match opened {
        Ok(stream) => stream.into_inner(),
        Err(status) => {
            let failure = Failure::from(status);
            let _ = sender
                .send(
                    Event::default()
                        .event("failure")
                        .retry(RETRY)
                        .data(failure.message),
                )
                .await;
            return;
        }
    };
    // The browser never dispatches an event whose data is empty, hence "live".
    if sender
        .send(Event::default().event("ready").retry(RETRY).data("live"))
        .await
        .is_err()
    {
        return;
    }
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            () = sender.closed() => return,
        };
        let event = match next {
            Some(Ok(event)) => event,
            Some(Err(status)) => {
                let _ = sender
                    .send(
                        Event::default()
                            .event("failure")
                            .data(Failure::from(status).message),
                    )
                    .await;
                return;
            }
            None => return,
        };
        let data = match &event.event {
            Some(pb::alert_event::Event::Alert(a)) => serde_json::json!({
                "kind": "alert",
                "alert_id": if a.refers_to.is_empty() { &a.id } else { &a.refers_to },
                "priority": AlertPriority::from_proto(a.priority).map_or("", AlertPriority::word),
            }),
            Some(pb::alert_event::Event::Ack(ack)) => serde_json::json!({
                "kind": "ack",
                "alert_id": ack.alert_id,
            }),
            None => continue,
        };
        let sse = Event::default()
            .event("alert")
            .id(event.position.to_string())
            .data(data.to_string());
        if sender.send(sse).await.is_err() {
            return;
        }
    }
}

/// `POST /alerts/{id}/ack`: acknowledges the alert for the officer's district with the
/// note, then shows the wall again (with the node's refusal, if it refused).
pub(crate) async fn acknowledge(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let result = console
        .alerts()
        .acknowledge(pb::AcknowledgeAlertRequest {
            alert_id: id.clone(),
            note: form.get("note").to_string(),
        })
        .await;
    match result {
        Ok(_) => see_other(&format!("/#alert-{}", id)),
        Err(status) => {
            let failure = Failure::from(status);
            let cards = cards(&console, &ctx).await;
            page_with_status(
                &console,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                ctx.t("Alerts"),
                shell(&ctx, cards, Some(&failure)),
            )
        }
    }
}

/// `GET /alerts/new`: the form for a new alert (liaison and admin officers).
pub(crate) async fn new_form(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    let mut form = Form::default();
    form.set("expires", "2h".to_string());
    let peers = peer_districts(&console).await;
    let body = alert_form(&console, &ctx, &form, &Errors::new(FIELDS), &peers);
    page(&console, &ctx, ctx.t("New alert"), body)
}

/// `POST /alerts/new`: posts the alert and shows the wall, or the form again with the
/// refusal at its field.
pub(crate) async fn post_alert(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let mut errors = Errors::new(FIELDS);
    let request = post_request(&form, now_ms(), &mut errors);
    if errors.is_empty() {
        match console.alerts().post(request).await {
            Ok(posted) => return see_other(&format!("/#alert-{}", posted.into_inner().id)),
            Err(status) => {
                let mut failure = Failure::from(status);
                failure.field = failure.field.map(|f| form_field(&f).to_string());
                errors.failures.push(failure);
            }
        }
    }
    let peers = peer_districts(&console).await;
    let body = alert_form(&console, &ctx, &form, &errors, &peers);
    page_with_status(
        &console,
        &ctx,
        StatusCode::UNPROCESSABLE_ENTITY,
        ctx.t("New alert"),
        body,
    )
}

/// The form field of a field the node names in a refusal of `PostAlertRequest`.
fn form_field(node_field: &str) -> &str {
    match node_field {
        "expires_at_ms" => "expires",
        "incident_place" => "place",
        "incident_at_ms" => "incident_at",
        "action_requested" => "action",
        "record_ids" => "records",
        other => other,
    }
}

/// The request the form asks for; what the console cannot read goes to `errors`.
fn post_request(form: &Form, now_ms: i64, errors: &mut Errors) -> pb::PostAlertRequest {
    let mut request = pb::PostAlertRequest {
        title: form.get("title").to_string(),
        body: form.get("body").to_string(),
        incident_place: form.get("place").to_string(),
        action_requested: form.get("action").to_string(),
        vehicles: form.lines("vehicles"),
        phones: form.lines("phones"),
        record_ids: form.lines("records"),
        photos: form.lines("photos"),
        targets: form.all("targets").iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    };
    let priority = form.get("priority");
    if let Some(p) = AlertPriority::ALL.iter().find(|p| p.word() == priority) {
        request.priority = p.to_proto();
    } else if !priority.is_empty() {
        errors.failures.push(Failure::at(
            "priority",
            format!("priority: {} is not a priority", excerpt(priority)),
        ));
    }
    let category = form.get("category");
    if let Some(c) = AlertCategory::ALL.iter().find(|c| c.word() == category) {
        request.category = c.to_proto();
    } else if !category.is_empty() {
        errors.failures.push(Failure::at(
            "category",
            format!("category: {} is not a category", excerpt(category)),
        ));
    }
    for word in form.all("warnings") {
        match Warning::ALL.iter().find(|w| w.word() == word) {
            Some(w) => request.warnings.push(w.to_proto()),
            None => errors.failures.push(Failure::at(
                "warnings",
                format!("warnings: {} is not a warning", excerpt(word)),
            )),
        }
    }
    let expires = form.get("expires");
    if !expires.is_empty() {
        match parse_duration(expires) {
            Ok(d) => {
                request.expires_at_ms =
                    now_ms.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            }
            Err(why) => errors.failures.push(Failure::at(
                "expires",
                format!("expires: {} {why}", excerpt(expires)),
            )),
        }
    }
    // The script turns the browser's local date and time into Unix milliseconds.
    let incident = form.get("incident_at_ms");
    if !incident.is_empty() {
        match incident.parse::<i64>() {
            Ok(ms) => request.incident_at_ms = ms,
            Err(_) => errors.failures.push(Failure::at(
                "incident_at",
                "incident_at: not a date and time".to_string(),
            )),
        }
    }
    request
}

/// The peer districts of the officer's node, for the target choice.
async fn peer_districts(console: &Console) -> Vec<String> {
    console
        .peers()
        .list(pb::ListPeersRequest {})
        .await
        .map(|r| {
            r.into_inner()
                .peers
                .into_iter()
                .map(|p| p.district)
                .collect()
        })
        .unwrap_or_default()
}

/// The alert form, filled with `form`'s values and showing `errors`.
fn alert_form(
    console: &Console,
    ctx: &Ctx,
    form: &Form,
    errors: &Errors,
    peers: &[String],
) -> Markup {
    let priorities: Vec<(&str, &str)> = AlertPriority::ALL
        .iter()
        .map(|p| (p.word(), ctx.t(p.word())))
        .collect();
    let categories: Vec<(&str, &str)> = AlertCategory::ALL
        .iter()
        .map(|c| (c.word(), ctx.t(c.word())))
        .collect();
    let warnings: Vec<(&str, &str)> = Warning::ALL
        .iter()
        .map(|w| (w.word(), ctx.t(w.word())))
        .collect();
    let targets: Vec<(&str, &str)> = peers.iter().map(|p| (p.as_str(), p.as_str())).collect();
    let lines = ctx.t("one per line");
    html! {
        h1 { (ctx.t("New alert")) }
        @if !console.me().is_liaison() { p.note { (ctx.t("Only liaison and admin officers post alerts.")) } }
        (errors.banners(ctx))
        form.alert-form method="post" action="/alerts/new" novalidate {
            (field(errors, "priority", ctx.t("Priority"), "", select(form, "priority", "—", &priorities)))
            (field(errors, "category", ctx.t("Category"), "", select(form, "category", "—", &categories)))
            (field(errors, "title", ctx.t("Title"), "", text_input(form, "title")))
            (field(errors, "body", ctx.t("Details"), "", text_area(form, "body")))
            (field(errors, "expires", ctx.t("Expires in"), "30m, 2h, 1d", text_input(form, "expires")))
            (field(errors, "targets", ctx.t("Targets"), ctx.t("every peer"), checkboxes(form, "targets", &targets)))
            (field(errors, "place", ctx.t("Place"), "", text_input(form, "place")))
            (field(errors, "incident_at", ctx.t("Incident"), "", html! {
                input type="datetime-local" id="incident_at" name="incident_local" value=(form.get("incident_local")) data-ms-into="incident_at_ms";
                input type="hidden" name="incident_at_ms" value=(form.get("incident_at_ms"));
            }))
            (field(errors, "action", ctx.t("Action requested"), "", text_input(form, "action")))
            (field(errors, "vehicles", ctx.t("Vehicles"), lines, text_area(form, "vehicles")))
            (field(errors, "phones", ctx.t("Phones"), lines, text_area(form, "phones")))
            (field(errors, "warnings", ctx.t("Warnings"), "", checkboxes(form, "warnings", &warnings)))
            (field(errors, "records", ctx.t("Record ids"), lines, text_area(form, "records")))
            p { button type="submit" id="post" { (ctx.t("Post alert")) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(priority: AlertPriority, deadline: i64, acked: bool, posted: i64) -> pb::AlertView {
        pb::AlertView {
            alert: Some(pb::Alert {
                priority: priority.to_proto(),
                posted_at_ms: posted,
                ..Default::default()
            }),
            targets: vec![pb::TargetStatus {
                district: "wb-asansol-durgapur".into(),
                ack: acked.then(pb::AlertAck::default),
                ..Default::default()
            }],
            ack_deadline_ms: deadline,
            ..Default::default()
        }
    }

    #[test]
    fn the_wall_puts_flash_first_then_the_nearest_deadline() {
        let mut views = [
            view(AlertPriority::Routine, 0, false, 5),
            view(AlertPriority::Immediate, 9_000, false, 1),
            view(AlertPriority::Flash, 7_000, true, 2),
            view(AlertPriority::Flash, 6_000, false, 3),
            view(AlertPriority::Immediate, 8_000, false, 4),
        ];
        views.sort_by_key(urgency);
        let order: Vec<i64> = views
            .iter()
            .map(|v| v.alert.as_ref().map_or(0, |a| a.posted_at_ms))
            .collect();
        assert_eq!(order, vec![3, 2, 4, 1, 5]);
    }

    #[test]
    fn the_form_becomes_a_post_request() {
        let form = Form::parse(b"priority=flash&category=robbery&title=Cash+van&body=Two+men&expires=2h&targets=wb-asansol-durgapur&warnings=armed&vehicles=JH10AB1234");
        let mut errors = Errors::new(FIELDS);
        let request = post_request(&form, 1_000, &mut errors);
        assert!(errors.is_empty(), "{:?}", errors.failures);
        assert_eq!(request.priority, AlertPriority::Flash.to_proto());
        assert_eq!(request.expires_at_ms, 1_000 + 2 * 3_600_000);
        assert_eq!(request.targets, vec!["wb-asansol-durgapur"]);
        assert_eq!(form_field("expires_at_ms"), "expires");
        let bad = Form::parse(b"expires=soon");
        let mut errors = Errors::new(FIELDS);
        post_request(&bad, 0, &mut errors);
        assert_eq!(errors.failures[0].field.as_deref(), Some("expires"));
    }
}
