//! Bulk import over gRPC (the service `setu import` streams to): good rows are stored in
//! batches, bad rows are reported by row number, field and reason and leave nothing
//! behind, an external reference makes a re-import update instead of duplicate, a dry run
//! stores nothing, only this district's officers import, and export streams the district's
//! own records (never a peer's).
#![forbid(unsafe_code)]

use setu_proto::v1::import_request::Part;
use setu_proto::v1::{
    ExportRequest, ImportBatch, ImportHeader, ImportRequest, ImportResponse, ImportRow,
    ListRecordsRequest, PersonRecord, PersonStatus,
};
use setu_tests::{sample_record, District, Officer, Role};
use tokio_stream::StreamExt;
use tonic::Code;

const DHANBAD: &str = "jh-dhanbad";

fn row(row: u64, name: &str, external_ref: &str) -> ImportRow {
    let mut record = sample_record(name);
    record.external_ref = external_ref.to_string();
    ImportRow {
        row,
        record: Some(record),
    }
}

async fn import(
    officer: &Officer,
    dry_run: bool,
    batches: Vec<Vec<ImportRow>>,
) -> Result<ImportResponse, tonic::Status> {
    let mut messages = vec![ImportRequest {
        part: Some(Part::Header(ImportHeader {
            dry_run,
            source: "test.csv".to_string(),
        })),
    }];
    for rows in batches {
        messages.push(ImportRequest {
            part: Some(Part::Batch(ImportBatch { rows })),
        });
    }
    Ok(officer
        .imports()
        .import(tokio_stream::iter(messages))
        .await?
        .into_inner())
}

async fn all_records(officer: &Officer) -> anyhow::Result<Vec<PersonRecord>> {
    Ok(officer
        .records()
        .list(ListRecordsRequest {
            page_size: 500,
            ..Default::default()
        })
        .await?
        .into_inner()
        .records)
}

#[tokio::test]
async fn good_rows_are_stored_bad_rows_reported_and_a_reimport_does_not_duplicate(
) -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-7001", Role::Officer).await?;

    let mut bad_year = row(3, "Test Bad Year Example", "DHN-0003");
    if let Some(r) = bad_year.record.as_mut() {
        r.birth_year = 1700;
    }
    let mut bad_phone = row(5, "Test Bad Phone Example", "");
    if let Some(r) = bad_phone.record.as_mut() {
        r.phones = vec!["12".to_string()];
    }
    let mut local = row(4, "Test Ramesh Mahato", "DHN-0004");
    if let Some(r) = local.record.as_mut() {
        r.name_local = "टेस्ट रमेश महतो".to_string();
    }
    let batches = vec![
        vec![
            row(1, "Test First Example", "DHN-0001"),
            row(2, "", "DHN-0002"),
            bad_year,
        ],
        vec![
            local,
            bad_phone,
            row(6, "Test Duplicate Ref Example", "DHN-0001"),
            row(7, "Test No Ref Example", ""),
        ],
    ];

    // A dry run reports what would happen and stores nothing.
    let dry = import(&officer, true, batches.clone()).await?;
    assert!(dry.dry_run);
    assert_eq!(dry.created, 3);
    assert!(
        all_records(&officer).await?.is_empty(),
        "a dry run stores nothing"
    );

    let report = import(&officer, false, batches.clone()).await?;
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (3, 0, 0)
    );
    let rejected: Vec<(u64, &str)> = report
        .rejected
        .iter()
        .map(|e| (e.row, e.field.as_str()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (2, "name"),
            (3, "birth_year"),
            (5, "phones[0]"),
            (6, "external_ref")
        ],
        "{:?}",
        report.rejected
    );
    assert!(
        report.rejected[3].reason.contains("row 1"),
        "{:?}",
        report.rejected[3]
    );
    assert_eq!(
        dry.rejected, report.rejected,
        "the dry run found the same problems"
    );
    let stored = all_records(&officer).await?;
    let mut refs: Vec<&str> = stored.iter().map(|r| r.external_ref.as_str()).collect();
    refs.sort();
    assert_eq!(refs, vec!["", "DHN-0001", "DHN-0004"]);
    let ramesh = stored
        .iter()
        .find(|r| r.external_ref == "DHN-0004")
        .expect("the Devanagari row is stored");
    assert_eq!(ramesh.name_local, "टेस्ट रमेश महतो");
    assert_eq!(ramesh.created_by, "JH-7001 (jh-dhanbad)");

    // The same file again: rows with an external reference are unchanged, not duplicated.
    let again = import(&officer, false, batches).await?;
    assert_eq!((again.created, again.updated, again.unchanged), (1, 0, 2));
    assert_eq!(
        all_records(&officer).await?.len(),
        4,
        "only the row without a reference repeats"
    );

    // A changed row updates the record that holds its reference.
    let mut changed = row(1, "Test First Example", "DHN-0001");
    if let Some(r) = changed.record.as_mut() {
        r.status = PersonStatus::InCustody as i32;
    }
    let update = import(&officer, false, vec![vec![changed]]).await?;
    assert_eq!((update.created, update.updated), (0, 1));
    let first = all_records(&officer)
        .await?
        .into_iter()
        .find(|r| r.external_ref == "DHN-0001")
        .expect("still there");
    assert_eq!(first.status, PersonStatus::InCustody as i32);
    assert_eq!(first.version, 2);

    // Export streams exactly the district's records.
    let mut stream = officer
        .imports()
        .export(ExportRequest { batch_size: 2 })
        .await?
        .into_inner();
    let mut exported = Vec::new();
    while let Some(batch) = stream.next().await {
        exported.extend(batch?.records);
    }
    let mut listed = all_records(&officer).await?;
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(exported, listed);
    Ok(())
}

#[tokio::test]
async fn an_import_needs_an_officer_of_the_district_and_a_header() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-7101", Role::Officer).await?;
    let stranger = district
        .connect_as(
            district.ca.officer("jh-bokaro", "JH-7101", Role::Admin)?,
            "JH-7101",
        )
        .await?;
    let refused = import(
        &stranger,
        false,
        vec![vec![row(1, "Test Foreign Example", "")]],
    )
    .await
    .expect_err("another district's officer cannot import here");
    assert_eq!(refused.code(), Code::PermissionDenied);

    let no_header = officer
        .imports()
        .import(tokio_stream::iter(vec![ImportRequest {
            part: Some(Part::Batch(ImportBatch {
                rows: vec![row(1, "Test Headless Example", "")],
            })),
        }]))
        .await
        .expect_err("the first message must be the header");
    assert_eq!(no_header.code(), Code::InvalidArgument);
    assert!(
        no_header.message().starts_with("header:"),
        "{}",
        no_header.message()
    );
    assert!(all_records(&officer).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn an_overdue_review_date_from_the_spreadsheet_is_kept_and_listed_as_due(
) -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-7201", Role::Officer).await?;
    let overdue_at = setu_node::clock::now_ms() - 30 * 24 * 60 * 60 * 1000;
    let mut overdue = row(1, "Test Overdue Review Example", "DHN-0101");
    if let Some(r) = overdue.record.as_mut() {
        r.review_by_ms = overdue_at;
    }
    let report = import(
        &officer,
        false,
        vec![vec![
            overdue,
            row(2, "Test Fresh Review Example", "DHN-0102"),
        ]],
    )
    .await?;
    assert_eq!(report.created, 2, "{:?}", report.rejected);
    let due = officer
        .records()
        .list(ListRecordsRequest {
            due_review: true,
            ..Default::default()
        })
        .await?
        .into_inner()
        .records;
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].external_ref, "DHN-0101");
    assert_eq!(due[0].review_by_ms, overdue_at);
    Ok(())
}
