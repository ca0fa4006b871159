//! Person records in the console: the dossier (`/records/{id}`), with a print stylesheet
//! that turns it into a one-page wanted notice, and the forms that create
//! (`/records/new`) and change (`/records/{id}/edit`) a record, which show the node's
//! refusal at the field it names.
//!
//! The node judges every value; the console only splits the form into the record's fields
//! (lists one per line, cases and addresses in the CLI's formats) and refuses what it
//! cannot read, at its field, before sending anything.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use setu_proto::v1 as pb;

use super::auth::Ctx;
use super::form::{checkboxes, field, select, text_area, text_input, Errors, Form};
use super::layout::{badge, failure_page, page, page_with_status, time_ms};
use super::node::Failure;
use super::{excerpt, Console};
use crate::parse::{parse_address, parse_case, parse_time};
use crate::view::{AddressView, CaseView};
use crate::words::{CaseRole, Gender, Handling, MoCategory, Status, Warning};

/// The fields of the record form, named as the node names them in its refusals (except
/// `review_by`, which the node calls `review_by_ms`).
const FIELDS: &[&str] = &[
    "name",
    "name_local",
    "aliases",
    "father_name",
    "gender",
    "birth_year",
    "age_min",
    "age_max",
    "addresses",
    "identifying_marks",
    "phones",
    "vehicles",
    "status",
    "reward_inr",
    "warnings",
    "cases",
    "associates",
    "handling",
    "external_ref",
    "review_by",
];

/// How many associates' names a dossier looks up.
const MAX_ASSOCIATES_NAMED: usize = 10;

/// `GET /records/{id}`: the dossier.
pub(crate) async fn dossier(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let record = match console
        .records()
        .get(pb::GetRecordRequest { id: id.clone() })
        .await
    {
        Ok(r) => r.into_inner(),
        Err(status) => return failure_page(&console, &ctx, &Failure::from(status)),
    };
    // The notes are a part of the dossier the node may still refuse or fail; the record
    // is shown all the same, with the reason.
    let notes = console
        .mo()
        .list(pb::ListMoNotesRequest {
            record_id: id.clone(),
            page_size: 50,
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().notes)
        .map_err(Failure::from);
    let mut associates = Vec::new();
    for associate in record.associates.iter().take(MAX_ASSOCIATES_NAMED) {
        let name = console
            .records()
            .get(pb::GetRecordRequest {
                id: associate.clone(),
            })
            .await
            .map(|r| r.into_inner().name)
            .unwrap_or_default();
        associates.push((associate.clone(), name));
    }
    for associate in record.associates.iter().skip(MAX_ASSOCIATES_NAMED) {
        associates.push((associate.clone(), String::new()));
    }
    let body = dossier_body(&console, &ctx, &record, &notes, &associates);
    page(&console, &ctx, &record.name, body)
}

/// The dossier's markup.
fn dossier_body(
    console: &Console,
    ctx: &Ctx,
    r: &pb::PersonRecord,
    notes: &Result<Vec<pb::MoNote>, Failure>,
    associates: &[(String, String)],
) -> Markup {
    let status = Status::from_proto(r.status);
    let wanted = matches!(status, Some(Status::Wanted | Status::Absconding));
    let own = console.me().district == r.origin;
    html! {
        article.dossier id="dossier" data-id=(r.id) {
            @if wanted {
                p.notice-head.print-only { (ctx.t("WANTED")) " · WANTED" }
            }
            header.dossier-head {
                h1 id="record-name" { (r.name) @if !r.name_local.is_empty() { " · " span lang="hi" { (r.name_local) } } }
                p.badges {
                    @if let Some(s) = status { (badge(ctx, "status", s.word())) }
                    @for w in r.warnings.iter().filter_map(|w| Warning::from_proto(*w)) {
                        (badge(ctx, "warning", w.word()))
                    }
                }
                @if r.reward_inr > 0 {
                    p.reward { (ctx.t("Reward")) ": ₹" (indian_grouping(r.reward_inr)) }
                }
            }
            @if !r.photos.is_empty() {
                section.photos {
                    @for (i, p) in r.photos.iter().enumerate() {
                        img.photo.first[i == 0] src={ "/photos/" (p.sha256) } alt=(r.name) loading="lazy";
                    }
                }
            }
            dl.facts {
                (fact(ctx.t("Aliases"), html! { (r.aliases.join(", ")) }, !r.aliases.is_empty()))
                (fact(ctx.t("Father"), html! { (r.father_name) }, !r.father_name.is_empty()))
                (fact(ctx.t("Gender"), html! { @if let Some(g) = Gender::from_proto(r.gender) { (ctx.t(g.word())) } }, r.gender != 0))
                (fact(ctx.t("Birth year"), html! { (r.birth_year) }, r.birth_year != 0))
                (fact(ctx.t("Age from"), html! { (r.age_min) "–" (r.age_max) }, r.age_min != 0 || r.age_max != 0))
                (fact(ctx.t("Identifying marks"), list(&r.identifying_marks), !r.identifying_marks.is_empty()))
                (fact(ctx.t("Phones"), list(&r.phones), !r.phones.is_empty()))
                (fact(ctx.t("Vehicles"), list(&r.vehicles), !r.vehicles.is_empty()))
                (fact(ctx.t("Addresses"), list(&r.addresses.iter().map(|a| address_text(&AddressView::from(a.clone()))).collect::<Vec<_>>()), !r.addresses.is_empty()))
                (fact(ctx.t("Cases"), list(&r.cases.iter().map(|c| case_text(&CaseView::from(c.clone()))).collect::<Vec<_>>()), !r.cases.is_empty()))
                (fact(ctx.t("Associates"), html! {
                    ul { @for (id, name) in associates {
                        li { a href={ "/records/" (id) } { @if name.is_empty() { (id) } @else { (name) } } }
                    } }
                }, !associates.is_empty()))
                (fact(ctx.t("MO notes"), match notes {
                    Ok(notes) => html! { ul.notes { @for n in notes {
                        li { strong { (mo_category(ctx, n)) } ": " (n.summary)
                             @if !n.places.is_empty() { " (" (n.places.join(", ")) ")" } }
                    } } },
                    Err(failure) => html! { span.refusal { (failure.message) } },
                }, notes.as_ref().map_or(true, |n| !n.is_empty())))
                (fact(ctx.t("Handling"), html! { @if let Some(h) = Handling::from_proto(r.handling) { (ctx.t(h.word())) } }, r.handling != 0))
                (fact(ctx.t("Owning district"), html! { (r.origin) }, true))
                (fact(ctx.t("Dossier number"), html! { (r.external_ref) }, !r.external_ref.is_empty()))
                (fact(ctx.t("Last change"), html! { (time_ms(ctx, r.updated_at_ms)) " · " (r.updated_by) " · v" (r.version) }, true))
                (fact(ctx.t("Review by"), time_ms(ctx, r.review_by_ms), r.review_by_ms > 0))
            }
            p.print-only.inform { (ctx.t("Inform")) ": " (r.origin) " · " (r.id) }
            p.actions.screen-only {
                @if own { a.button href={ "/records/" (r.id) "/edit" } { (ctx.t("Edit")) } " " }
                button type="button" data-print="1" { (ctx.t("Print wanted notice")) }
            }
        }
    }
}

/// One row of the dossier's facts, left out when `shown` is false.
fn fact(label: &str, value: Markup, shown: bool) -> Markup {
    html! { @if shown { dt { (label) } dd { (value) } } }
}

/// A list of texts.
fn list(items: &[String]) -> Markup {
    html! { ul { @for i in items { li { (i) } } } }
}

/// An MO note's category in words (or its own word for "other").
fn mo_category(ctx: &Ctx, note: &pb::MoNote) -> String {
    match MoCategory::from_proto(note.category) {
        Some(MoCategory::Other) if !note.category_other.is_empty() => note.category_other.clone(),
        Some(c) => ctx.t(c.word()).to_string(),
        None => String::new(),
    }
}

/// ₹ amounts as Indians write them: 1,00,000.
fn indian_grouping(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() <= 3 {
        return digits;
    }
    let (head, tail) = digits.split_at(digits.len() - 3);
    let mut groups = Vec::new();
    let mut rest = head;
    while rest.len() > 2 {
        let (a, b) = rest.split_at(rest.len() - 2);
        groups.push(b);
        rest = a;
    }
    groups.push(rest);
    groups.reverse();
    format!("{},{tail}", groups.join(","))
}

/// A case in the form's (and the CLI's) format: `112/2025@Jharia:BNS 309(4);BNS 111:accused`.
fn case_text(case: &CaseView) -> String {
    let mut text = format!("{}@{}", case.fir_number, case.police_station);
    if !case.sections.is_empty() {
        text.push(':');
        text.push_str(&case.sections.join(";"));
    }
    if let Some(role) = case.role {
        text.push(':');
        text.push_str(role.word());
    }
    text
}

/// An address as "locality, police station, district, state", without trailing blanks.
fn address_text(a: &AddressView) -> String {
    let mut parts = vec![
        a.locality.as_str(),
        a.police_station.as_str(),
        a.district.as_str(),
        a.state.as_str(),
    ];
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts.join(", ")
}

/// `GET /records/new`: the empty form.
pub(crate) async fn new_form(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    let body = record_form(&ctx, "/records/new", &Form::default(), &Errors::new(FIELDS));
    page(&console, &ctx, ctx.t("New record"), body)
}

/// `POST /records/new`: creates the record and opens its dossier, or shows the form again
/// with the refusal at its field.
pub(crate) async fn create(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let mut record = pb::PersonRecord::default();
    let mut errors = Errors::new(FIELDS);
    apply(&form, &mut record, &mut errors);
    if errors.is_empty() {
        match console
            .records()
            .create(pb::CreateRecordRequest {
                record: Some(record),
            })
            .await
        {
            Ok(created) => return see_other(&format!("/records/{}", created.into_inner().id)),
            Err(status) => errors.failures.push(node_failure(status)),
        }
    }
    let body = record_form(&ctx, "/records/new", &form, &errors);
    page_with_status(
        &console,
        &ctx,
        StatusCode::UNPROCESSABLE_ENTITY,
        ctx.t("New record"),
        body,
    )
}

/// `GET /records/{id}/edit`: the form filled from the stored record.
pub(crate) async fn edit_form(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let record = match console
        .records()
        .get(pb::GetRecordRequest { id: id.clone() })
        .await
    {
        Ok(r) => r.into_inner(),
        Err(status) => return failure_page(&console, &ctx, &Failure::from(status)),
    };
    let form = form_of(&record);
    let action = format!("/records/{}/edit", record.id);
    let body = record_form(&ctx, &action, &form, &Errors::new(FIELDS));
    page(&console, &ctx, ctx.t("Edit record"), body)
}

/// `POST /records/{id}/edit`: replaces the fields on the form, keeping the rest (photos,
/// enum values this client does not know), against the version the form was made from.
pub(crate) async fn update(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let action = format!("/records/{id}/edit");
    let mut errors = Errors::new(FIELDS);
    let mut record = match console
        .records()
        .get(pb::GetRecordRequest { id: id.clone() })
        .await
    {
        Ok(r) => r.into_inner(),
        Err(status) => return failure_page(&console, &ctx, &Failure::from(status)),
    };
    let expected_version = form.get("version").parse::<u64>().unwrap_or(record.version);
    apply(&form, &mut record, &mut errors);
    if errors.is_empty() {
        match console
            .records()
            .update(pb::UpdateRecordRequest {
                record: Some(record),
                expected_version,
            })
            .await
        {
            Ok(updated) => return see_other(&format!("/records/{}", updated.into_inner().id)),
            Err(status) => errors.failures.push(node_failure(status)),
        }
    }
    let body = record_form(&ctx, &action, &form, &errors);
    page_with_status(
        &console,
        &ctx,
        StatusCode::UNPROCESSABLE_ENTITY,
        ctx.t("Edit record"),
        body,
    )
}

/// A node refusal with the node's `review_by_ms` shown at the form's `review_by`.
fn node_failure(status: tonic::Status) -> Failure {
    let mut failure = Failure::from(status);
    if failure.field.as_deref() == Some("review_by_ms") {
        failure.field = Some("review_by".to_string());
    }
    failure
}

/// A 303 redirect to `to`.
pub(crate) fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// The form's values for a stored record.
fn form_of(r: &pb::PersonRecord) -> Form {
    let mut form = Form::default();
    form.set("version", r.version.to_string());
    form.set("name", r.name.clone());
    form.set("name_local", r.name_local.clone());
    form.set("aliases", r.aliases.join("\n"));
    form.set("father_name", r.father_name.clone());
    form.set(
        "gender",
        Gender::from_proto(r.gender)
            .map_or("", Gender::word)
            .to_string(),
    );
    form.set("birth_year", nonzero(u64::from(r.birth_year)));
    form.set("age_min", nonzero(u64::from(r.age_min)));
    form.set("age_max", nonzero(u64::from(r.age_max)));
    let addresses: Vec<String> = r
        .addresses
        .iter()
        .map(|a| address_text(&AddressView::from(a.clone())))
        .collect();
    form.set("addresses", addresses.join("\n"));
    form.set("identifying_marks", r.identifying_marks.join("\n"));
    form.set("phones", r.phones.join("\n"));
    form.set("vehicles", r.vehicles.join("\n"));
    form.set(
        "status",
        Status::from_proto(r.status)
            .map_or("", Status::word)
            .to_string(),
    );
    form.set("reward_inr", nonzero(r.reward_inr));
    for w in r.warnings.iter().filter_map(|w| Warning::from_proto(*w)) {
        form.push("warnings", w.word().to_string());
    }
    let cases: Vec<String> = r
        .cases
        .iter()
        .map(|c| case_text(&CaseView::from(c.clone())))
        .collect();
    form.set("cases", cases.join("\n"));
    form.set("associates", r.associates.join("\n"));
    form.set(
        "handling",
        Handling::from_proto(r.handling)
            .map_or("", Handling::word)
            .to_string(),
    );
    form.set("external_ref", r.external_ref.clone());
    if r.review_by_ms > 0 {
        let date =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(r.review_by_ms) * 1_000_000)
                .ok()
                .and_then(|t| {
                    t.format(time::macros::format_description!("[year]-[month]-[day]"))
                        .ok()
                })
                .unwrap_or_default();
        form.set("review_by", date);
    }
    form
}

/// A number for a form field; "" for 0.
fn nonzero(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        n.to_string()
    }
}

/// Writes the form's fields into `r`; what the console cannot read goes to `errors`, at
/// its field, and leaves the record's value alone.
fn apply(form: &Form, r: &mut pb::PersonRecord, errors: &mut Errors) {
    r.name = form.get("name").to_string();
    r.name_local = form.get("name_local").to_string();
    r.aliases = form.lines("aliases");
    r.father_name = form.get("father_name").to_string();
    r.identifying_marks = form.lines("identifying_marks");
    r.phones = form.lines("phones");
    r.vehicles = form.lines("vehicles");
    r.associates = form.lines("associates");
    r.external_ref = form.get("external_ref").to_string();
    r.gender = word_field(
        form,
        "gender",
        r.gender,
        Gender::ALL,
        Gender::word,
        Gender::to_proto,
        Gender::from_proto,
        errors,
    );
    r.status = word_field(
        form,
        "status",
        r.status,
        Status::ALL,
        Status::word,
        Status::to_proto,
        Status::from_proto,
        errors,
    );
    r.handling = word_field(
        form,
        "handling",
        r.handling,
        Handling::ALL,
        Handling::word,
        Handling::to_proto,
        Handling::from_proto,
        errors,
    );
    let mut warnings: Vec<i32> = r
        .warnings
        .iter()
        .copied()
        .filter(|w| Warning::from_proto(*w).is_none())
        .collect();
    for word in form.all("warnings") {
        match Warning::ALL.iter().find(|w| w.word() == word) {
            Some(w) => warnings.push(w.to_proto()),
            None => errors.failures.push(Failure::at(
                "warnings",
                format!("warnings: {} is not a warning", excerpt(word)),
            )),
        }
    }
    r.warnings = warnings;
    if let Some(n) = number(form, "birth_year", errors) {
        r.birth_year = u32::try_from(n).unwrap_or(u32::MAX);
    }
    if let Some(n) = number(form, "age_min", errors) {
        r.age_min = u32::try_from(n).unwrap_or(u32::MAX);
    }
    if let Some(n) = number(form, "age_max", errors) {
        r.age_max = u32::try_from(n).unwrap_or(u32::MAX);
    }
    if let Some(n) = number(form, "reward_inr", errors) {
        r.reward_inr = n;
    }
    let mut addresses = Vec::new();
    for (i, line) in form.lines("addresses").iter().enumerate() {
        match parse_address(line) {
            Ok(a) => addresses.push(a.to_proto()),
            Err(why) => errors.failures.push(Failure::at(
                "addresses",
                format!("addresses, line {}: {why}", i + 1),
            )),
        }
    }
    r.addresses = addresses;
    let mut cases = Vec::new();
    for (i, line) in form.lines("cases").iter().enumerate() {
        match parse_case(line) {
            Ok(c) => cases.push(c.to_proto()),
            Err(why) => errors.failures.push(Failure::at(
                "cases",
                format!("cases, line {}: {why}", i + 1),
            )),
        }
    }
    r.cases = cases;
    let review = form.get("review_by");
    if review.is_empty() {
        r.review_by_ms = 0;
    } else {
        match parse_time(review) {
            Ok(t) => r.review_by_ms = t.ms,
            Err(why) => errors.failures.push(Failure::at(
                "review_by",
                format!("review_by: {} {why}", excerpt(review)),
            )),
        }
    }
}

/// Reads a drop-down of enum words: "" clears a known value but keeps one this client does
/// not know (a newer node's), a word sets it.
#[allow(clippy::too_many_arguments)]
fn word_field<W: Copy + 'static>(
    form: &Form,
    name: &str,
    current: i32,
    all: &'static [W],
    word: fn(W) -> &'static str,
    to_proto: fn(W) -> i32,
    from_proto: fn(i32) -> Option<W>,
    errors: &mut Errors,
) -> i32 {
    let chosen = form.get(name);
    if chosen.is_empty() {
        return if from_proto(current).is_some() {
            0
        } else {
            current
        };
    }
    match all.iter().find(|w| word(**w) == chosen) {
        Some(w) => to_proto(*w),
        None => {
            errors.failures.push(Failure::at(
                name,
                format!("{name}: {} is not a known value", excerpt(chosen)),
            ));
            current
        }
    }
}

/// A whole number of a form field (spaces, commas and ₹ allowed); `None` and a refusal
/// when it is not one, `Some(0)` when empty.
fn number(form: &Form, name: &str, errors: &mut Errors) -> Option<u64> {
    let text = form.get(name);
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '₹'))
        .collect();
    if digits.is_empty() {
        return Some(0);
    }
    match digits.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.failures.push(Failure::at(
                name,
                format!("{name}: {} is not a whole number", excerpt(text)),
            ));
            None
        }
    }
}

/// The record form, filled with `form`'s values and showing `errors`.
fn record_form(ctx: &Ctx, action: &str, form: &Form, errors: &Errors) -> Markup {
    let lines = ctx.t("one per line");
    let words = |all: &[&'static str]| -> Vec<(&'static str, &'static str)> {
        all.iter().map(|w| (*w, ctx.t(w))).collect()
    };
    let genders = words(&Gender::ALL.iter().map(|g| g.word()).collect::<Vec<_>>());
    let statuses = words(&Status::ALL.iter().map(|s| s.word()).collect::<Vec<_>>());
    let warnings = words(&Warning::ALL.iter().map(|w| w.word()).collect::<Vec<_>>());
    let handlings = words(&Handling::ALL.iter().map(|h| h.word()).collect::<Vec<_>>());
    let roles: Vec<&str> = CaseRole::ALL.iter().map(|r| r.word()).collect();
    let case_hint = format!("{lines}: 112/2025@Jharia:BNS 309(4):{}", roles.join("|"));
    html! {
        h1 { @if action == "/records/new" { (ctx.t("New record")) } @else { (ctx.t("Edit record")) } }
        (errors.banners(ctx))
        form.record method="post" action=(action) novalidate {
            input type="hidden" name="version" value=(form.get("version"));
            (field(errors, "name", ctx.t("Name"), "", text_input(form, "name")))
            (field(errors, "name_local", ctx.t("Name in local script"), "", text_input(form, "name_local")))
            (field(errors, "aliases", ctx.t("Aliases"), lines, text_area(form, "aliases")))
            (field(errors, "father_name", ctx.t("Father"), "", text_input(form, "father_name")))
            (field(errors, "gender", ctx.t("Gender"), "", select(form, "gender", "—", &genders)))
            (field(errors, "birth_year", ctx.t("Birth year"), "", text_input(form, "birth_year")))
            (field(errors, "age_min", ctx.t("Age from"), "", text_input(form, "age_min")))
            (field(errors, "age_max", ctx.t("Age to"), "", text_input(form, "age_max")))
            (field(errors, "status", ctx.t("Status"), "", select(form, "status", "—", &statuses)))
            (field(errors, "warnings", ctx.t("Warnings"), "", checkboxes(form, "warnings", &warnings)))
            (field(errors, "reward_inr", ctx.t("Reward (₹)"), "", text_input(form, "reward_inr")))
            (field(errors, "identifying_marks", ctx.t("Identifying marks"), lines, text_area(form, "identifying_marks")))
            (field(errors, "phones", ctx.t("Phones"), lines, text_area(form, "phones")))
            (field(errors, "vehicles", ctx.t("Vehicles"), lines, text_area(form, "vehicles")))
            (field(errors, "addresses", ctx.t("Addresses"), "locality, police station, district, state", text_area(form, "addresses")))
            (field(errors, "cases", ctx.t("Cases"), &case_hint, text_area(form, "cases")))
            (field(errors, "associates", ctx.t("Associates"), lines, text_area(form, "associates")))
            (field(errors, "handling", ctx.t("Handling"), "", select(form, "handling", ctx.t("node default"), &handlings)))
            (field(errors, "external_ref", ctx.t("Dossier number"), "", text_input(form, "external_ref")))
            (field(errors, "review_by", ctx.t("Review by"), "YYYY-MM-DD", html! {
                input type="date" id="review_by" name="review_by" value=(form.get("review_by"));
            }))
            p { button type="submit" id="save" { (ctx.t("Save")) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupees_are_grouped_the_indian_way() {
        assert_eq!(indian_grouping(500), "500");
        assert_eq!(indian_grouping(5000), "5,000");
        assert_eq!(indian_grouping(100_000), "1,00,000");
        assert_eq!(indian_grouping(12_345_678), "1,23,45,678");
    }

    #[test]
    fn a_form_becomes_a_record_and_back() {
        let form = Form::parse(
            "name=Test+Kumar+Mahato&aliases=Tinku%0AT.K.&status=wanted&warnings=armed\
             &birth_year=1990&reward_inr=1%2C00%2C000&phones=%2B91+98765+43210\
             &cases=112%2F2025%40Jharia%3ABNS+309(4)%3Aaccused&addresses=Test+Nagar%2C+Jharia"
                .as_bytes(),
        );
        let mut record = pb::PersonRecord::default();
        let mut errors = Errors::new(FIELDS);
        apply(&form, &mut record, &mut errors);
        assert!(errors.is_empty(), "{:?}", errors.failures);
        assert_eq!(record.aliases, vec!["Tinku", "T.K."]);
        assert_eq!(record.reward_inr, 100_000);
        assert_eq!(record.cases.len(), 1);
        assert_eq!(record.cases[0].year, 2025);
        let again = form_of(&record);
        assert_eq!(again.get("cases"), "112/2025@Jharia:BNS 309(4):accused");
        assert_eq!(again.get("addresses"), "Test Nagar, Jharia");
        assert_eq!(again.all("warnings"), vec!["armed"]);
    }

    #[test]
    fn unreadable_values_are_refused_at_their_field() {
        let form = Form::parse(b"name=X&birth_year=nineteen&cases=no+station");
        let mut record = pb::PersonRecord::default();
        let mut errors = Errors::new(FIELDS);
        apply(&form, &mut record, &mut errors);
        let fields: Vec<_> = errors
            .failures
            .iter()
            .filter_map(|f| f.field.as_deref())
            .collect();
        assert_eq!(fields, vec!["birth_year", "cases"]);
    }
}
