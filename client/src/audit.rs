//! The `setu audit` command: the node's audit trail, for admins.

use setu_proto::v1 as pb;
use setu_proto::v1::audit_service_client::AuditServiceClient;

use crate::cli::AuditArgs;
use crate::config::ClientConfig;
use crate::connect::connect;
use crate::error::ClientError;
use crate::output::{emit, MAX_MESSAGE_BYTES};
use crate::render::audit_table;
use crate::view::{AuditEntryView, AuditListView};

/// The most entries the node returns per page.
const NODE_PAGE_LIMIT: u32 = 500;

/// Runs `setu audit` and returns what it prints on stdout: up to `--limit` entries,
/// fetched page by page.
pub async fn run(
    config: &ClientConfig,
    args: &AuditArgs,
    json: bool,
) -> Result<String, ClientError> {
    let mut client = AuditServiceClient::new(connect(config).await?)
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let mut list = AuditListView {
        entries: Vec::new(),
        next_page_token: args.page_token.clone().unwrap_or_default(),
    };
    let limit = args.limit as usize;
    loop {
        let wanted = limit.saturating_sub(list.entries.len());
        if wanted == 0 {
            break;
        }
        let page = client
            .list(pb::ListAuditRequest {
                since_ms: args.since.map_or(0, |t| t.start_ms()),
                until_ms: args.until.map_or(0, |t| t.end_ms()),
                officer: args.officer.clone().unwrap_or_default(),
                record_id: args.record.clone().unwrap_or_default(),
                page_size: u32::try_from(wanted)
                    .unwrap_or(NODE_PAGE_LIMIT)
                    .min(NODE_PAGE_LIMIT),
                page_token: list.next_page_token.clone(),
                newest_first: !args.oldest_first,
            })
            .await?
            .into_inner();
        list.entries
            .extend(page.entries.into_iter().map(AuditEntryView::from));
        list.next_page_token = page.next_page_token;
        if list.next_page_token.is_empty() {
            break;
        }
    }
    emit(json, &list, audit_table)
}
