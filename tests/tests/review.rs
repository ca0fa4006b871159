//! Review dates: a district's records past their `review_by` date are listed by
//! `record list --due-review` (its own only, never a peer's), an admin confirms one with
//! `record review` (the date moves a year on, or to the date given), an ordinary officer
//! cannot, and the daily reminder counts what is due. Time is moved with the node's clock,
//! not waited for.
#![forbid(unsafe_code)]

use std::time::Duration;

use setu_node::clock::YEAR_MS;
use setu_proto::v1::{CreateRecordRequest, ListRecordsRequest, PersonRecord, ReviewRecordRequest};
use setu_tests::bins::{officer_config, setu, setu_json, text};
use setu_tests::mesh::{wait_for_record, Mesh};
use setu_tests::{sample_record, District, Officer, Role};
use tonic::Code;

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

async fn create(officer: &Officer, name: &str, review_by_ms: i64) -> anyhow::Result<PersonRecord> {
    let mut record = sample_record(name);
    record.review_by_ms = review_by_ms;
    Ok(officer
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await?
        .into_inner())
}

async fn due(officer: &Officer) -> anyhow::Result<Vec<String>> {
    let listed = officer
        .records()
        .list(ListRecordsRequest {
            due_review: true,
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(listed.records.into_iter().map(|r| r.id).collect())
}

#[tokio::test]
async fn due_records_are_listed_confirmed_by_an_admin_and_counted_by_the_reminder(
) -> anyhow::Result<()> {
    let mesh = Mesh::two_states(DHANBAD, ASANSOL)?.start().await?;
    let admin = mesh.officer(DHANBAD, "JH-6001", Role::Admin).await?;
    let officer = mesh.officer(DHANBAD, "JH-6002", Role::Officer).await?;
    let peer_admin = mesh.officer(ASANSOL, "WB-6101", Role::Admin).await?;

    // A record due by default in a year, one set for three years, and a peer's record that
    // is replicated here.
    let yearly = create(&officer, "Test Yearly Review Example", 0).await?;
    let now = setu_node::clock::now_ms();
    let later = create(&officer, "Test Later Review Example", now + 3 * YEAR_MS).await?;
    let peers = create(&peer_admin, "Test Peer Review Example", 0).await?;
    wait_for_record(&admin, &peers.id, "the peer's record arrives", |_| true).await?;
    assert!(due(&admin).await?.is_empty(), "nothing is due yet");

    // Thirteen months later (on Dhanbad's clock) only Dhanbad's yearly record is due.
    let clock = mesh.node(DHANBAD).config().clock.clone();
    clock.advance(DAY * 396);
    assert_eq!(due(&officer).await?, vec![yearly.id.clone()]);
    let storage = mesh.node(DHANBAD).storage();
    let (count, ids) = setu_node::review::due_for_review(storage, DHANBAD, clock.now_ms())?;
    assert_eq!((count, ids), (1, vec![yearly.id.clone()]));

    // An ordinary officer cannot confirm; an admin can, and the date moves a year on from
    // the node's now.
    let refused = officer
        .records()
        .review(ReviewRecordRequest {
            id: yearly.id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("an officer cannot confirm a review");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(refused.message().contains("admin"), "{}", refused.message());
    let reviewed = admin
        .records()
        .review(ReviewRecordRequest {
            id: yearly.id.clone(),
            expected_version: yearly.version,
            review_by_ms: 0,
        })
        .await?
        .into_inner();
    assert_eq!(reviewed.version, yearly.version + 1);
    assert!(
        (reviewed.review_by_ms - (clock.now_ms() + YEAR_MS)).abs() < 60_000,
        "a year from the node's now"
    );
    assert_eq!(reviewed.name, yearly.name, "nothing else changed");
    assert!(due(&admin).await?.is_empty());

    // A stale version is refused, and the peer's record cannot be confirmed here.
    let stale = admin
        .records()
        .review(ReviewRecordRequest {
            id: yearly.id.clone(),
            expected_version: yearly.version,
            review_by_ms: 0,
        })
        .await
        .expect_err("a stale version is refused");
    assert_eq!(stale.code(), Code::Aborted);
    let not_ours = admin
        .records()
        .review(ReviewRecordRequest {
            id: peers.id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("only the owning district reviews");
    assert_eq!(not_ours.code(), Code::PermissionDenied);
    // The three-year record is not due yet.
    assert!(!due(&admin).await?.contains(&later.id));
    Ok(())
}

#[tokio::test]
async fn the_cli_lists_due_records_and_confirms_a_review() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let admin = officer_config(&district, "JH-6201", Role::Admin)?;
    let created = setu_json(
        &admin,
        &["record", "add", "--name", "Test Due Review Example"],
    )
    .await?;
    let id = text(&created, "id").to_string();
    district.node.config().clock.advance(DAY * 400);

    let listed = setu_json(&admin, &["record", "list", "--due-review"]).await?;
    let ids: Vec<&str> = listed["records"]
        .as_array()
        .map(|a| a.iter().map(|r| text(r, "id")).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![id.as_str()]);

    let finished = setu(&admin, &["record", "review", &id, "--until", "2099-01-01"]).await?;
    assert!(
        !finished.status.success(),
        "more than five years ahead is refused"
    );
    assert!(
        finished.stderr.contains("at most five years ahead"),
        "{finished}"
    );

    let finished = setu(&admin, &["record", "review", &id]).await?.success()?;
    assert!(
        finished
            .stdout
            .starts_with(&format!("record {id} reviewed; next review by ")),
        "{finished}"
    );
    let listed = setu_json(&admin, &["record", "list", "--due-review"]).await?;
    assert_eq!(listed["records"].as_array().map(Vec::len), Some(0));
    Ok(())
}
