//! Request validation: a refused request names the field at fault (and the limit), is
//! answered with INVALID_ARGUMENT, and stores nothing.
#![forbid(unsafe_code)]

use setu_proto::v1::{
    CreateMoNoteRequest, CreateRecordRequest, DeleteRecordRequest, GetRecordRequest,
    ListAlertsRequest, ListMoNotesRequest, ListRecordsRequest, MoCategory, PersonRecord,
    SearchRequest, UpdateRecordRequest,
};
use setu_tests::fixtures::sample_note;
use setu_tests::{sample_record, District, Officer, Role};
use tonic::{Code, Status};

const DHANBAD: &str = "jh-dhanbad";

/// Makes one field of a valid record invalid.
type Spoil = fn(&mut PersonRecord);

async fn list_records(officer: &Officer) -> anyhow::Result<Vec<PersonRecord>> {
    Ok(officer
        .records()
        .list(ListRecordsRequest::default())
        .await?
        .into_inner()
        .records)
}

async fn create_refused(officer: &Officer, record: PersonRecord) -> anyhow::Result<Status> {
    match officer
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await
    {
        Ok(created) => anyhow::bail!("the record was accepted: {:?}", created.into_inner()),
        Err(status) => Ok(status),
    }
}

fn assert_invalid(status: &Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().starts_with(&format!("{field}:")),
        "the message should name `{field}` first: {}",
        status.message()
    );
}

#[tokio::test]
async fn an_empty_name_is_refused_and_nothing_is_stored() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-3001", Role::Officer).await?;
    for name in ["", "   "] {
        let status = create_refused(&officer, sample_record(name)).await?;
        assert_invalid(&status, "name");
    }
    assert!(list_records(&officer).await?.is_empty());
    assert_eq!(district.node.storage().record_count(), 0);
    Ok(())
}

#[tokio::test]
async fn ten_thousand_aliases_are_refused_naming_the_limit() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-3002", Role::Officer).await?;
    let mut record = sample_record("Test Many Names Example");
    record.aliases = (0..10_000).map(|i| format!("Alias {i}")).collect();
    let status = create_refused(&officer, record).await?;
    assert_invalid(&status, "aliases");
    assert!(status.message().contains("10000"), "{}", status.message());
    assert!(
        status.message().contains("limit is 20"),
        "{}",
        status.message()
    );
    assert!(list_records(&officer).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn malformed_values_name_their_field() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-3003", Role::Officer).await?;

    let cases: [(&str, Spoil); 7] = [
        ("phones[0]", |r| r.phones = vec!["12345".into()]),
        ("vehicles[0]", |r| r.vehicles = vec!["JH!".into()]),
        ("birth_year", |r| r.birth_year = 1800),
        ("status", |r| r.status = 99),
        ("warnings[0]", |r| r.warnings = vec![0]),
        ("associates[0]", |r| {
            r.associates = vec!["not-a-uuid".into()]
        }),
        ("name", |r| r.name = "Test\u{1b}[2J Example".into()),
    ];
    for (field, spoil) in cases {
        let mut record = sample_record("Test Malformed Example");
        spoil(&mut record);
        let status = create_refused(&officer, record).await?;
        assert_invalid(&status, field);
    }
    assert!(list_records(&officer).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_malformed_id_is_refused_naming_the_field() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-3004", Role::Admin).await?;

    let status = officer
        .records()
        .get(GetRecordRequest {
            id: "not-a-uuid".to_string(),
        })
        .await
        .expect_err("a malformed id must be refused");
    assert_invalid(&status, "id");
    assert!(
        status.message().contains("not-a-uuid"),
        "{}",
        status.message()
    );

    let status = officer
        .records()
        .delete(DeleteRecordRequest {
            id: "not-a-uuid".to_string(),
            reason: "test".to_string(),
            expected_version: 0,
        })
        .await
        .expect_err("a malformed id must be refused");
    assert_invalid(&status, "id");

    let status = officer
        .records()
        .list(ListRecordsRequest {
            page_token: "not-a-uuid".to_string(),
            ..Default::default()
        })
        .await
        .expect_err("a malformed page token must be refused");
    assert_invalid(&status, "page_token");

    // A well-formed id that does not exist is NOT_FOUND, not INVALID_ARGUMENT.
    let status = officer
        .records()
        .get(GetRecordRequest {
            id: uuid::Uuid::now_v7().to_string(),
        })
        .await
        .expect_err("a missing record");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    Ok(())
}

#[tokio::test]
async fn an_invalid_update_leaves_the_record_unchanged() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-3005", Role::Officer).await?;
    let created = officer
        .records()
        .create(CreateRecordRequest {
            record: Some(sample_record("Test Stable Record Example")),
        })
        .await?
        .into_inner();

    let mut change = created.clone();
    change.name = "Test Renamed Example".to_string();
    change.phones = vec!["+91 12".to_string()];
    let status = officer
        .records()
        .update(UpdateRecordRequest {
            record: Some(change.clone()),
            expected_version: created.version,
        })
        .await
        .expect_err("an invalid phone must be refused");
    assert_invalid(&status, "phones[0]");

    change.phones.clear();
    let status = officer
        .records()
        .update(UpdateRecordRequest {
            record: Some(change),
            expected_version: 0,
        })
        .await
        .expect_err("an update without expected_version must be refused");
    assert_invalid(&status, "expected_version");

    let stored = officer
        .records()
        .get(GetRecordRequest {
            id: created.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(stored, created);
    Ok(())
}

#[tokio::test]
async fn an_invalid_mo_note_is_refused_and_not_stored() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-3006", Role::Officer).await?;

    let mut no_category = sample_note(MoCategory::Burglary, "Night burglaries", &[]);
    no_category.category = 0;
    let mut other_unnamed = sample_note(MoCategory::Other, "Something new", &[]);
    other_unnamed.category_other = String::new();
    let mut bad_date = sample_note(MoCategory::Burglary, "Night burglaries", &[]);
    bad_date.first_seen = "10/01/2025".to_string();
    let empty_summary = sample_note(MoCategory::Burglary, " ", &[]);
    for (field, note) in [
        ("category", no_category),
        ("category_other", other_unnamed),
        ("first_seen", bad_date),
        ("summary", empty_summary),
    ] {
        let status = officer
            .mo()
            .create(CreateMoNoteRequest { note: Some(note) })
            .await
            .expect_err("an invalid note must be refused");
        assert_invalid(&status, field);
    }
    let notes = officer
        .mo()
        .list(ListMoNotesRequest::default())
        .await?
        .into_inner()
        .notes;
    assert!(notes.is_empty(), "{notes:?}");
    Ok(())
}

/// Asserts that `status` refuses `page_token` with a short message that quotes only the
/// start of the token and says how long it was.
fn assert_short_page_token_refusal(status: &Status, method: &str, chars: usize) {
    assert_invalid(status, "page_token");
    let message = status.message();
    assert!(
        message.len() < 300,
        "{method}: the message is {} bytes: {}",
        message.len(),
        &message[..message.len().min(400)]
    );
    assert!(
        message.contains(&format!("({chars} characters)")),
        "{method}: {message}"
    );
}

#[tokio::test]
async fn a_huge_page_token_is_refused_with_a_short_message() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-3007", Role::Officer).await?;
    // 16 KiB used to overflow the trailers (RESOURCE_EXHAUSTED); 3 MB gave 2.3 MB of
    // trailers. Both fit in a request (the node's default limit is 4 MiB).
    for len in [16 * 1024, 3_000_000] {
        let token = "Q".repeat(len);

        let status = officer
            .records()
            .list(ListRecordsRequest {
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect_err("a huge page token must be refused");
        assert_short_page_token_refusal(&status, "RecordService/List", len);

        let status = officer
            .alerts()
            .list(ListAlertsRequest {
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect_err("a huge page token must be refused");
        assert_short_page_token_refusal(&status, "AlertService/List", len);

        let status = officer
            .mo()
            .list(ListMoNotesRequest {
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect_err("a huge page token must be refused");
        assert_short_page_token_refusal(&status, "MoService/List", len);

        let status = officer
            .search()
            .search(SearchRequest {
                phone: "98765 43210".to_string(),
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect_err("a huge page token must be refused");
        assert_short_page_token_refusal(&status, "SearchService/Search", len);
    }

    // Multi-byte input is cut on a character boundary and counted in characters.
    let token = "पृष्ठ".repeat(20_000);
    let chars = token.chars().count();
    let status = officer
        .alerts()
        .list(ListAlertsRequest {
            page_token: token,
            ..Default::default()
        })
        .await
        .expect_err("a huge page token must be refused");
    assert_short_page_token_refusal(&status, "AlertService/List", chars);

    // The node still answers on the same connection.
    assert!(list_records(&officer).await?.is_empty());
    Ok(())
}
