//! The `setu mo` commands: add, show, update, delete and list modus-operandi notes.

use setu_proto::v1 as pb;
use setu_proto::v1::mo_service_client::MoServiceClient;
use tonic::transport::Channel;

use crate::cli::{ListMo, MoCommand, MoFields};
use crate::config::ClientConfig;
use crate::connect::connect;
use crate::error::ClientError;
use crate::input::read_optional;
use crate::output::{emit, MAX_MESSAGE_BYTES};
use crate::records::check_file_id;
use crate::render::{mo_card, mo_card_with_people, mo_table};
use crate::view::{edited_note, MoListView, MoView, TombstoneView};

/// Runs one MO command and returns what it prints on stdout.
pub async fn run(
    config: &ClientConfig,
    command: &MoCommand,
    json: bool,
) -> Result<String, ClientError> {
    match command {
        MoCommand::Add(fields) => add(config, fields, json).await,
        MoCommand::Show { id } => {
            let channel = connect(config).await?;
            let mut notes =
                MoServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES);
            let note = MoView::from(get(&mut notes, id).await?);
            if json {
                return emit(json, &note, mo_card);
            }
            let people = crate::linked::person_lines(&channel, &note.record_ids).await;
            Ok(mo_card_with_people(&note, &people))
        }
        MoCommand::Update {
            id,
            fields,
            expected_version,
        } => update(config, id, fields, *expected_version, json).await,
        MoCommand::Delete {
            id,
            reason,
            expected_version,
        } => delete(config, id, reason, *expected_version, json).await,
        MoCommand::List(filters) => list(config, filters, json).await,
    }
}

/// An MO service client on a fresh connection.
async fn client(config: &ClientConfig) -> Result<MoServiceClient<Channel>, ClientError> {
    Ok(MoServiceClient::new(connect(config).await?).max_decoding_message_size(MAX_MESSAGE_BYTES))
}

/// Reads one note as the node sent it.
async fn get(client: &mut MoServiceClient<Channel>, id: &str) -> Result<pb::MoNote, ClientError> {
    Ok(client
        .get(pb::GetMoNoteRequest { id: id.to_string() })
        .await?
        .into_inner())
}

/// `mo add`: builds the note from `--file` and flags and creates it.
async fn add(config: &ClientConfig, fields: &MoFields, json: bool) -> Result<String, ClientError> {
    let overlay = read_optional(fields.file.as_deref())?;
    let mut note = match &overlay {
        Some(overlay) => overlay.apply(&MoView::default())?,
        None => MoView::default(),
    };
    fields.apply(&mut note);
    let created = client(config)
        .await?
        .create(pb::CreateMoNoteRequest {
            note: Some(note.to_proto()),
        })
        .await?
        .into_inner();
    let created = MoView::from(created);
    emit(json, &created, |n| format!("created MO note {}\n", n.id))
}

/// `mo update`: reads the stored note, replaces the given fields and writes it back.
async fn update(
    config: &ClientConfig,
    id: &str,
    fields: &MoFields,
    expected_version: Option<u64>,
    json: bool,
) -> Result<String, ClientError> {
    let overlay = read_optional(fields.file.as_deref())?;
    if overlay.is_none() && !fields.has_flags() {
        return Err(ClientError::Input(
            "nothing to update: give --file or at least one field flag".to_string(),
        ));
    }
    check_file_id(overlay.as_ref(), id, "MO note")?;
    let mut client = client(config).await?;
    let stored = get(&mut client, id).await?;
    let stored_view = MoView::from(stored.clone());
    let expected_version = expected_version
        .or_else(|| overlay.as_ref().and_then(|o| o.positive("version")))
        .unwrap_or(stored.version);
    let mut note = match &overlay {
        Some(overlay) => overlay.apply(&stored_view)?,
        None => stored_view.clone(),
    };
    fields.apply(&mut note);
    note.id = id.to_string();
    let updated = client
        .update(pb::UpdateMoNoteRequest {
            note: Some(edited_note(&stored, &stored_view, &note)),
            expected_version,
        })
        .await?
        .into_inner();
    let updated = MoView::from(updated);
    emit(json, &updated, |n| {
        format!("updated MO note {} (version {})\n", n.id, n.version)
    })
}

/// `mo delete`: expunges the note and prints the tombstone.
async fn delete(
    config: &ClientConfig,
    id: &str,
    reason: &str,
    expected_version: Option<u64>,
    json: bool,
) -> Result<String, ClientError> {
    let response = client(config)
        .await?
        .delete(pb::DeleteMoNoteRequest {
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
    emit(json, &tombstone, |t| format!("deleted MO note {}\n", t.id))
}

/// `mo list`: one page of notes.
async fn list(config: &ClientConfig, filters: &ListMo, json: bool) -> Result<String, ClientError> {
    let response = client(config)
        .await?
        .list(pb::ListMoNotesRequest {
            record_id: filters.record.clone().unwrap_or_default(),
            categories: filters.categories.iter().map(|c| c.to_proto()).collect(),
            page_size: filters.limit.unwrap_or(0),
            page_token: filters.page_token.clone().unwrap_or_default(),
        })
        .await?
        .into_inner();
    let page = MoListView {
        notes: response.notes.into_iter().map(MoView::from).collect(),
        next_page_token: response.next_page_token,
    };
    emit(json, &page, mo_table)
}
