//! `/search`: one box for what an officer has in hand — a name in any script, a phone, a
//! vehicle registration or an FIR — with the district, status and warning filters, and
//! results with a photo thumbnail and the reasons each matched.
//!
//! The box is read as the node's search expects it ([`classify`]); the district choices
//! are the officer's own district and its peers, so a district cannot be mistyped.

use axum::extract::{Extension, RawQuery, State};
use axum::response::Response;
use maud::{html, Markup};
use setu_proto::v1 as pb;

use super::auth::Ctx;
use super::form::Form;
use super::layout::{badge, banner, page};
use super::node::Failure;
use super::Console;
use crate::words::{Status, Warning};

/// How many hits a page shows.
const PAGE_SIZE: u32 = 20;

/// What the search box was read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Query {
    /// A name, alias or relative, in any script.
    Name(String),
    /// A phone number.
    Phone(String),
    /// A vehicle registration.
    Vehicle(String),
    /// An FIR number with its police station.
    Fir {
        /// The FIR number, e.g. "112/2025".
        number: String,
        /// The police station, e.g. "Jharia".
        station: String,
    },
}

impl Query {
    /// The label of the kind, as the page shows it.
    fn kind(&self) -> &'static str {
        match self {
            Query::Name(_) => "name",
            Query::Phone(_) => "phone",
            Query::Vehicle(_) => "vehicle",
            Query::Fir { .. } => "FIR",
        }
    }

    /// Puts the criterion into a search request.
    fn fill(&self, request: &mut pb::SearchRequest) {
        match self {
            Query::Name(text) => request.text = text.clone(),
            Query::Phone(phone) => request.phone = phone.clone(),
            Query::Vehicle(vehicle) => request.vehicle = vehicle.clone(),
            Query::Fir { number, station } => {
                request.fir_number = number.clone();
                request.police_station = station.clone();
            }
        }
    }
}

/// Reads the search box: "112/2025@Jharia" or "FIR 112/2025 Jharia" is an FIR, 10 to 15
/// digits with phone punctuation a phone, letters and digits such as "JH 10 AB 1234" a
/// vehicle, anything else a name.
pub(crate) fn classify(text: &str) -> Query {
    let text = text.trim();
    if let Some(fir) = fir(text) {
        return fir;
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    if (10..=15).contains(&digits)
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
    {
        return Query::Phone(text.to_string());
    }
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.'))
        .collect();
    let letters = compact.chars().filter(char::is_ascii_alphabetic).count();
    if (6..=11).contains(&compact.len())
        && compact.chars().all(|c| c.is_ascii_alphanumeric())
        && compact.chars().take(2).all(|c| c.is_ascii_alphabetic())
        && letters >= 2
        && compact.chars().any(|c| c.is_ascii_digit())
    {
        return Query::Vehicle(text.to_string());
    }
    Query::Name(text.to_string())
}

/// An FIR: an optional "FIR", then NUMBER/YEAR, then "@" or a space, then the station.
fn fir(text: &str) -> Option<Query> {
    let rest = text
        .strip_prefix("FIR")
        .or_else(|| text.strip_prefix("fir"))
        .map_or(text, str::trim_start);
    let split = rest.find(['@', ' '])?;
    let (number, station) = rest.split_at(split);
    let station = station.trim_start_matches('@').trim();
    let (n, year) = number.split_once('/')?;
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    (digits(n) && year.len() == 4 && digits(year) && !station.is_empty()).then(|| Query::Fir {
        number: number.to_string(),
        station: station.to_string(),
    })
}

/// `GET /search?q=...&district=...&status=...&warning=...`.
pub(crate) async fn show(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> Response {
    let form = Form::parse(query.unwrap_or_default().as_bytes());
    let q = form.get("q");
    let districts = districts(&console).await;
    let mut result = None;
    if !q.is_empty() {
        let query = classify(q);
        let mut request = pb::SearchRequest {
            page_size: PAGE_SIZE,
            origins: form.all("district").iter().map(|d| d.to_string()).collect(),
            page_token: form.get("page").to_string(),
            ..Default::default()
        };
        query.fill(&mut request);
        for word in form.all("status") {
            if let Some(s) = Status::ALL.iter().find(|s| s.word() == word) {
                request.statuses.push(s.to_proto());
            }
        }
        for word in form.all("warning") {
            if let Some(w) = Warning::ALL.iter().find(|w| w.word() == word) {
                request.warnings.push(w.to_proto());
            }
        }
        let response = console
            .search()
            .search(request)
            .await
            .map(tonic::Response::into_inner)
            .map_err(Failure::from);
        result = Some((query, response));
    }
    let body = html! {
        h1 { (ctx.t("Search")) }
        (search_form(&ctx, &form, &districts))
        @if let Some((query, response)) = &result {
            p.searched { (ctx.t("searched as")) ": " strong { (ctx.t(query.kind())) } }
            @match response {
                Ok(found) => (hits(&ctx, &form, found)),
                Err(failure) => (banner(&ctx, failure)),
            }
        }
    };
    page(&console, &ctx, ctx.t("Search"), body)
}

/// The officer's district and its peers, for the district filter; only the own district
/// when the node cannot list its peers.
async fn districts(console: &Console) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(peers) = console.peers().list(pb::ListPeersRequest {}).await {
        let peers = peers.into_inner();
        out.push(peers.district);
        out.extend(peers.peers.into_iter().map(|p| p.district));
    } else if !console.me().district.is_empty() {
        out.push(console.me().district.clone());
    }
    out
}

/// The search box and its filters.
fn search_form(ctx: &Ctx, form: &Form, districts: &[String]) -> Markup {
    let chosen_district = form.get("district");
    let chosen_status = form.get("status");
    let ticked = form.all("warning");
    html! {
        form.search method="get" action="/search" {
            input type="search" id="q" name="q" value=(form.get("q"))
                placeholder=(ctx.t("Name, phone, vehicle or FIR")) autofocus;
            label { (ctx.t("District")) " "
                select name="district" id="district" {
                    option value="" { (ctx.t("any")) }
                    @for d in districts { option value=(d) selected[chosen_district == d] { (d) } }
                }
            }
            label { (ctx.t("Status")) " "
                select name="status" id="status" {
                    option value="" { (ctx.t("any")) }
                    @for s in Status::ALL {
                        option value=(s.word()) selected[chosen_status == s.word()] { (ctx.t(s.word())) }
                    }
                }
            }
            span.checks {
                @for w in Warning::ALL {
                    label.check {
                        input type="checkbox" name="warning" value=(w.word()) checked[ticked.contains(&w.word())];
                        " " (ctx.t(w.word()))
                    }
                }
            }
            button type="submit" id="search" { (ctx.t("Search")) }
        }
    }
}

/// The hits of one page, with the link to the next.
fn hits(ctx: &Ctx, form: &Form, found: &pb::SearchResponse) -> Markup {
    let next = (!found.next_page_token.is_empty()).then(|| {
        let mut next = form.clone();
        next.set("page", found.next_page_token.clone());
        let pairs: Vec<(String, String)> = ["q", "district", "status", "page"]
            .iter()
            .filter(|k| !next.get(k).is_empty())
            .map(|k| ((*k).to_string(), next.get(k).to_string()))
            .chain(
                next.all("warning")
                    .iter()
                    .map(|w| ("warning".to_string(), (*w).to_string())),
            )
            .collect();
        format!(
            "/search?{}",
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        )
    });
    html! {
        @if found.hits.is_empty() {
            p.none { (ctx.t("No records matched.")) }
        } @else {
            p.count { (found.total) @if found.total_is_estimate { "+" } " " (ctx.t("results")) }
            ol.hits {
                @for hit in &found.hits {
                    @if let Some(r) = &hit.record { (hit_card(ctx, r, &hit.reasons)) }
                }
            }
            @if let Some(next) = next { p { a href=(next) { "→" } } }
        }
    }
}

/// One hit: thumbnail, names, status and warnings, district, and why it matched.
fn hit_card(ctx: &Ctx, r: &pb::PersonRecord, reasons: &[pb::MatchReason]) -> Markup {
    html! {
        li.hit {
            a.hit-link href={ "/records/" (r.id) } {
                @if let Some(photo) = r.photos.first() {
                    img.thumb src={ "/photos/" (photo.sha256) } alt=(r.name) loading="lazy";
                } @else {
                    span.thumb.empty {}
                }
                span.hit-text {
                    strong.hit-name { (r.name) }
                    @if !r.name_local.is_empty() { " · " (r.name_local) }
                    @if !r.father_name.is_empty() { br; small { (ctx.t("Father")) ": " (r.father_name) } }
                    br;
                    @if let Some(s) = Status::from_proto(r.status) { (badge(ctx, "status", s.word())) " " }
                    @for w in r.warnings.iter().filter_map(|w| Warning::from_proto(*w)) { (badge(ctx, "warning", w.word())) " " }
                    small.origin { (r.origin) }
                }
            }
            @if !reasons.is_empty() {
                ul.reasons {
                    @for reason in reasons { li { (reason.field) ": " (reason.detail) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_reads_firs_phones_vehicles_and_names() {
        assert_eq!(
            classify("112/2025@Jharia"),
            Query::Fir {
                number: "112/2025".into(),
                station: "Jharia".into()
            }
        );
        assert_eq!(
            classify("FIR 7/2024 Gaya Town"),
            Query::Fir {
                number: "7/2024".into(),
                station: "Gaya Town".into()
            }
        );
        assert_eq!(
            classify("+91 98765-43210"),
            Query::Phone("+91 98765-43210".into())
        );
        assert_eq!(
            classify("JH 10 AB 1234"),
            Query::Vehicle("JH 10 AB 1234".into())
        );
        assert_eq!(
            classify("wb-12-c-4567"),
            Query::Vehicle("wb-12-c-4567".into())
        );
        assert_eq!(classify("raju yadav"), Query::Name("raju yadav".into()));
        assert_eq!(classify("राजू यादव"), Query::Name("राजू यादव".into()));
        assert_eq!(classify("12345"), Query::Name("12345".into()));
    }
}
