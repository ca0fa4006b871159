//! `/peers`: the federation links of the officer's node, as `setu peers` shows them, so the
//! control room can see at a glance whether the neighbour's alerts and records can reach it:
//! lags, a slow link, the traffic per class, reconnects, the oldest undelivered change and
//! alert, and the origins it is behind on.

use axum::extract::{Extension, State};
use axum::response::Response;
use maud::html;
use setu_proto::v1 as pb;

use super::auth::Ctx;
use super::layout::{failure_page, page, time_ms};
use super::node::Failure;
use super::Console;
use crate::render::{behind_lines, link_figures};
use crate::view::PeerView;
use crate::when::now_ms;

/// `GET /peers`.
pub(crate) async fn show(
    State(console): State<Console>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    let list = match console.peers().list(pb::ListPeersRequest {}).await {
        Ok(list) => list.into_inner(),
        Err(status) => return failure_page(&console, &ctx, &Failure::from(status)),
    };
    let now_ms = now_ms();
    let body = html! {
        h1 { (ctx.t("Federation links")) " · " (list.district) }
        p { (ctx.t("This node's certificate expires")) ": " (time_ms(&ctx, list.own_cert_expires_at_ms)) }
        div.table-wrap {
            table.peers {
                thead { tr {
                    th { (ctx.t("Peer")) } th { (ctx.t("Connected")) } th { (ctx.t("Last contact")) }
                    th { (ctx.t("Changes to receive")) } th { (ctx.t("Changes to send")) }
                    th { (ctx.t("Link")) } th { (ctx.t("Behind")) }
                    th { (ctx.t("Last check")) } th { (ctx.t("Last error")) } th { (ctx.t("Certificate expires")) }
                } }
                tbody {
                    @for p in &list.peers {
                        tr.up[p.connected].down[!p.connected] {
                            td { strong { (p.district) } br; small { (p.address) } }
                            td { @if p.connected { (ctx.t("yes")) } @else { (ctx.t("no")) } }
                            td { (time_ms(&ctx, p.last_contact_ms)) }
                            td { (p.lag_in) }
                            td { (p.lag_out) }
                            @let view = PeerView::from(p.clone());
                            td.link {
                                @for figure in link_figures(&view, now_ms) {
                                    div { strong { (ctx.t(figure.label)) ": " } (figure.lines.join("; ")) }
                                }
                            }
                            td.behind {
                                @for line in behind_lines(&view.origin_lags) {
                                    div { (line) }
                                }
                            }
                            td { (time_ms(&ctx, p.anti_entropy_at_ms)) br; small { (p.anti_entropy_result) } }
                            td { @if !p.last_error.is_empty() { (p.last_error) br; small { (time_ms(&ctx, p.last_error_at_ms)) } } }
                            td { (time_ms(&ctx, p.peer_cert_expires_at_ms)) }
                        }
                    }
                }
            }
        }
    };
    page(&console, &ctx, ctx.t("Links"), body)
}
