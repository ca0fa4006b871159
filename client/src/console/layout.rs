//! The page shell every console page shares (header, navigation, language switch, the
//! embedded stylesheet and script), and small pieces of markup used across pages: times,
//! badges, the refusal banner.
//!
//! Times are sent as Unix milliseconds and written out by the browser in the officer's own
//! zone; the UTC text inside each `<time>` is only what shows without the script.

use axum::extract::Extension;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::auth::Ctx;
use super::i18n::Lang;
use super::node::Failure;
use super::Console;

/// A whole page: `title` and `body` in the console's shell.
pub(crate) fn page(console: &Console, ctx: &Ctx, title: &str, body: Markup) -> Response {
    page_with_status(console, ctx, StatusCode::OK, title, body)
}

/// A whole page with another status than 200.
pub(crate) fn page_with_status(
    console: &Console,
    ctx: &Ctx,
    status: StatusCode,
    title: &str,
    body: Markup,
) -> Response {
    let me = console.me();
    let other = match ctx.lang {
        Lang::En => ("hi", "हिन्दी"),
        Lang::Hi => ("en", "English"),
    };
    let switch = format!(
        "{}{}lang={}",
        ctx.here,
        if ctx.here.contains('?') { '&' } else { '?' },
        other.0
    );
    let markup = html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (ctx.t("Setu console")) }
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/assets/console.css";
                script src="/assets/console.js" defer {}
            }
            body data-lang=(ctx.lang.code()) {
                header.top {
                    a.brand href="/" { "सेतु Setu" }
                    nav {
                        a href="/" { (ctx.t("Alerts")) }
                        a href="/search" { (ctx.t("Search")) }
                        a href="/records/new" { (ctx.t("New record")) }
                        @if me.is_liaison() {
                            a href="/alerts/new" { (ctx.t("New alert")) }
                        }
                        a href="/peers" { (ctx.t("Links")) }
                    }
                    span.me { (me.describe()) }
                    a.lang href=(switch) { (other.1) }
                }
                main { (body) }
            }
        }
    };
    html_response(status, markup)
}

/// An HTML response with `status`.
pub(crate) fn html_response(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// A page that says why a call failed (404 when the node said there is no such item).
pub(crate) fn failure_page(console: &Console, ctx: &Ctx, failure: &Failure) -> Response {
    let status = if failure.not_found {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_GATEWAY
    };
    page_with_status(
        console,
        ctx,
        status,
        ctx.t("Not found."),
        banner(ctx, failure),
    )
}

/// The refusal banner at the top of a page or form.
pub(crate) fn banner(ctx: &Ctx, failure: &Failure) -> Markup {
    html! {
        p.refusal role="alert" { strong { (ctx.t("The node refused this:")) } " " (failure.message) }
    }
}

/// The page for an address that is no route.
pub(crate) async fn not_found(
    axum::extract::State(console): axum::extract::State<Console>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    page_with_status(
        &console,
        &ctx,
        StatusCode::NOT_FOUND,
        ctx.t("Not found."),
        html! { p { (ctx.t("Not found.")) } },
    )
}

/// A time from Unix milliseconds: the browser rewrites it in the officer's zone; 0 is
/// "never".
pub(crate) fn time_ms(ctx: &Ctx, ms: i64) -> Markup {
    if ms <= 0 {
        return html! { span { (ctx.t("never")) } };
    }
    html! { time data-ms=(ms) { (utc_text(ms)) } }
}

/// `2026-12-02 10:15 UTC`, the text a time shows until the script rewrites it.
pub(crate) fn utc_text(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// A coloured badge with a translated enum word, e.g. a status or a warning.
pub(crate) fn badge(ctx: &Ctx, class: &str, word: &'static str) -> Markup {
    html! { span class={ "badge " (class) " " (word) } { (ctx.t(word)) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_is_readable() {
        assert_eq!(utc_text(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_text(1_796_206_500_000), "2026-12-02 10:15 UTC");
    }
}
