//! The `setu record` commands other than photos: add, show, update, delete and list.
//! (`record show --save-photos` hands over to [`crate::photos`] to fetch the photos.)

use serde::Serialize;
use setu_proto::v1 as pb;
use setu_proto::v1::record_service_client::RecordServiceClient;
use tonic::transport::Channel;

use crate::cli::{ListRecords, RecordCommand, RecordFields};
use crate::config::ClientConfig;
use crate::connect::connect;
use crate::error::ClientError;
use crate::input::{read_optional, Overlay};
use crate::output::{emit, MAX_MESSAGE_BYTES};
use crate::render::{record_card, record_card_with_notes, record_table};
use crate::view::{edited_record, RecordListView, RecordView, TombstoneView};

/// Runs one record command and returns what it prints on stdout.
pub async fn run(
    config: &ClientConfig,
    command: &RecordCommand,
    json: bool,
) -> Result<String, ClientError> {
    match command {
        RecordCommand::Add(fields) => add(config, fields, json).await,
        RecordCommand::Show {
            id,
            save_photos: None,
        } => {
            let channel = connect(config).await?;
            let record = get(&mut client_on(channel.clone()), id).await?;
            if json {
                return emit(json, &record, record_card);
            }
            let notes = crate::linked::note_lines(&channel, &record.id).await?;
            Ok(record_card_with_notes(&record, &notes))
        }
        RecordCommand::Show {
            id,
            save_photos: Some(dir),
        } => crate::photos::show_and_save(config, id, dir, json).await,
        RecordCommand::Update {
            id,
            fields,
            expected_version,
        } => update(config, id, fields, *expected_version, json).await,
        RecordCommand::Delete {
            id,
            reason,
            expected_version,
        } => delete(config, id, reason, *expected_version, json).await,
        RecordCommand::List(filters) => list(config, filters, json).await,
        RecordCommand::Review {
            id,
            until,
            expected_version,
        } => review(config, id, until.map(|t| t.ms), *expected_version, json).await,
        RecordCommand::Photo(command) => crate::photos::run(config, command, json).await,
    }
}

/// A record service client on a fresh connection.
async fn client(config: &ClientConfig) -> Result<RecordServiceClient<Channel>, ClientError> {
    Ok(client_on(connect(config).await?))
}

/// A record service client on an existing connection.
pub fn client_on(channel: Channel) -> RecordServiceClient<Channel> {
    RecordServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

/// Reads one record.
pub async fn get(
    client: &mut RecordServiceClient<Channel>,
    id: &str,
) -> Result<RecordView, ClientError> {
    Ok(RecordView::from(get_proto(client, id).await?))
}

/// Reads one record as the node sent it.
async fn get_proto(
    client: &mut RecordServiceClient<Channel>,
    id: &str,
) -> Result<pb::PersonRecord, ClientError> {
    Ok(client
        .get(pb::GetRecordRequest { id: id.to_string() })
        .await?
        .into_inner())
}

/// `record add`: builds the record from `--file` and flags and creates it.
async fn add(
    config: &ClientConfig,
    fields: &RecordFields,
    json: bool,
) -> Result<String, ClientError> {
    let overlay = read_optional(fields.file.as_deref())?;
    let mut record = match &overlay {
        Some(overlay) => overlay.apply(&RecordView::default())?,
        None => RecordView::default(),
    };
    fields.apply(&mut record);
    let mut client = client(config).await?;
    let request = pb::CreateRecordRequest {
        record: Some(record.to_proto()),
    };
    // A node from before likely matches has no CreateAndMatch: create it plainly there.
    let (created, matches) = match client.create_and_match(request.clone()).await {
        Ok(response) => {
            let response = response.into_inner();
            (response.record.unwrap_or_default(), response.likely_matches)
        }
        Err(status) if status.code() == tonic::Code::Unimplemented => {
            (client.create(request).await?.into_inner(), Vec::new())
        }
        Err(status) => return Err(status.into()),
    };
    let added = AddedView {
        record: RecordView::from(created),
        likely_matches: matches.into_iter().map(LikelyMatchView::from).collect(),
    };
    emit(json, &added, |a| {
        let mut text = format!("created record {}\n", a.record.id);
        text.push_str(&render_likely_matches(&a.likely_matches, ""));
        text
    })
}

/// What `record add` reports: the record as created, and the existing records that are
/// probably the same person (in JSON, a `likely_matches` list beside the record's fields).
#[derive(Debug, Clone, PartialEq, Serialize)]
struct AddedView {
    #[serde(flatten)]
    record: RecordView,
    likely_matches: Vec<LikelyMatchView>,
}

/// An existing record, of this district or a peer, that is probably the same person as a
/// record just added or imported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LikelyMatchView {
    /// The existing record's id.
    pub id: String,
    /// The district that owns it.
    pub district: String,
    /// Its name.
    pub name: String,
    /// Its father's name (empty when unknown).
    pub father_name: String,
    /// How likely it is the same person, in (0, 1].
    pub score: f32,
    /// What agrees and what differs.
    pub reasons: Vec<String>,
}

impl From<pb::LikelyMatch> for LikelyMatchView {
    fn from(m: pb::LikelyMatch) -> Self {
        LikelyMatchView {
            id: m.id,
            district: m.origin,
            name: m.name,
            father_name: m.father_name,
            score: m.score,
            reasons: m.reasons,
        }
    }
}

/// One paragraph per likely match, each line starting with `indent`: "possibly the same
/// person as NAME s/o FATHER (DISTRICT, score 0.93): setu record show ID", then the
/// reasons. Empty when there are none.
pub fn render_likely_matches(matches: &[LikelyMatchView], indent: &str) -> String {
    let mut text = String::new();
    for m in matches {
        let father = if m.father_name.is_empty() {
            String::new()
        } else {
            format!(" s/o {}", m.father_name)
        };
        text.push_str(&format!(
            "{indent}possibly the same person as {}{father} ({}, score {:.2}): setu record show {}\n",
            m.name, m.district, m.score, m.id
        ));
        if !m.reasons.is_empty() {
            text.push_str(&format!("{indent}  {}\n", m.reasons.join("; ")));
        }
    }
    text
}

/// `record update`: reads the stored record, replaces the given fields and writes it back.
async fn update(
    config: &ClientConfig,
    id: &str,
    fields: &RecordFields,
    expected_version: Option<u64>,
    json: bool,
) -> Result<String, ClientError> {
    let overlay = read_optional(fields.file.as_deref())?;
    if overlay.is_none() && !fields.has_flags() {
        return Err(ClientError::Input(
            "nothing to update: give --file or at least one field flag".to_string(),
        ));
    }
    check_file_id(overlay.as_ref(), id, "record")?;
    let mut client = client(config).await?;
    let stored = get_proto(&mut client, id).await?;
    let stored_view = RecordView::from(stored.clone());
    let expected_version = expected_version
        .or_else(|| overlay.as_ref().and_then(|o| o.positive("version")))
        .unwrap_or(stored.version);
    let mut record = match &overlay {
        Some(overlay) => overlay.apply(&stored_view)?,
        None => stored_view.clone(),
    };
    fields.apply(&mut record);
    record.id = id.to_string();
    let updated = client
        .update(pb::UpdateRecordRequest {
            record: Some(edited_record(&stored, &stored_view, &record)),
            expected_version,
        })
        .await?
        .into_inner();
    let updated = RecordView::from(updated);
    emit(json, &updated, |r| {
        format!("updated record {} (version {})\n", r.id, r.version)
    })
}

/// Refuses a `--file` saved from a different record or note than the one named.
pub fn check_file_id(overlay: Option<&Overlay>, id: &str, what: &str) -> Result<(), ClientError> {
    match overlay.and_then(|o| o.string("id")) {
        Some(file_id) if file_id != id => Err(ClientError::Input(format!(
            "the file is for {what} {file_id}, not {id}"
        ))),
        _ => Ok(()),
    }
}

/// `record delete`: expunges the record and prints the tombstone.
async fn delete(
    config: &ClientConfig,
    id: &str,
    reason: &str,
    expected_version: Option<u64>,
    json: bool,
) -> Result<String, ClientError> {
    let response = client(config)
        .await?
        .delete(pb::DeleteRecordRequest {
            id: id.to_string(),
            reason: reason.to_string(),
            expected_version: expected_version.unwrap_or(0),
        })
        .await?
        .into_inner();
    let tombstone = response
        .tombstone
        .map(TombstoneView::from)
        .ok_or_else(|| ClientError::Protocol("the delete returned no tombstone".to_string()))?;
    emit(json, &tombstone, |t| format!("deleted record {}\n", t.id))
}

/// `record review`: confirms the record and prints its new review date.
async fn review(
    config: &ClientConfig,
    id: &str,
    until_ms: Option<i64>,
    expected_version: Option<u64>,
    json: bool,
) -> Result<String, ClientError> {
    let record = client(config)
        .await?
        .review(pb::ReviewRecordRequest {
            id: id.to_string(),
            expected_version: expected_version.unwrap_or(0),
            review_by_ms: until_ms.unwrap_or(0),
        })
        .await?
        .into_inner();
    let view = RecordView::from(record);
    emit(json, &view, |r| {
        format!(
            "record {} reviewed; next review by {} (version {})\n",
            r.id,
            crate::render::format_ms(r.review_by_ms),
            r.version
        )
    })
}

/// `record list`: one page of records.
async fn list(
    config: &ClientConfig,
    filters: &ListRecords,
    json: bool,
) -> Result<String, ClientError> {
    let channel = connect(config).await?;
    crate::districts::check_known(&channel, "--origin", &filters.origins).await?;
    let response = client_on(channel)
        .list(pb::ListRecordsRequest {
            statuses: filters.statuses.iter().map(|s| s.to_proto()).collect(),
            origins: filters.origins.clone(),
            due_review: filters.due_review,
            page_size: filters.limit.unwrap_or(0),
            page_token: filters.page_token.clone().unwrap_or_default(),
        })
        .await?
        .into_inner();
    let page = RecordListView {
        records: response.records.into_iter().map(RecordView::from).collect(),
        next_page_token: response.next_page_token,
    };
    emit(json, &page, record_table)
}
