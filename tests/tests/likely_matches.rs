//! "Is he already known across the border?": a record added in Dhanbad and federated to
//! Asansol is named as a likely match when a similar person is added in Asansol — through
//! the API (`CreateAndMatch`), through the real `setu record add` binary, and per row of
//! an import — with its district and score, and nothing is blocked. Every person is
//! fictional.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Duration;

use setu_proto::v1::import_request::Part;
use setu_proto::v1::{
    CreateRecordRequest, Handling, ImportBatch, ImportHeader, ImportRequest, ImportRow,
    PersonRecord, PersonStatus, SearchRequest,
};
use setu_tests::bins::{setu, setu_json, write_client_config};
use setu_tests::mesh::Mesh;
use setu_tests::wait::wait_for;
use setu_tests::{Officer, Role};

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";

/// How long a record may take to replicate to the peer and become searchable there.
const REPLICATION_TIMEOUT: Duration = Duration::from_secs(30);

fn person(name: &str, father: &str, born: u32) -> PersonRecord {
    PersonRecord {
        name: name.to_string(),
        father_name: father.to_string(),
        birth_year: born,
        status: PersonStatus::Active as i32,
        handling: Handling::Federation as i32,
        ..Default::default()
    }
}

/// Writes a client config for a new officer of `district` in `mesh`.
fn config(mesh: &Mesh, district: &str, badge: &str) -> anyhow::Result<PathBuf> {
    let ca = mesh.ca_of(district);
    let cert = ca.officer(district, badge, Role::Officer)?;
    let path = mesh.dir().join(format!("{badge}.toml"));
    write_client_config(&path, &mesh.node(district).url(), &ca.cert_path(), &cert)?;
    Ok(path)
}

/// Waits until `officer`'s node finds record `id` by `name`.
async fn wait_until_found(officer: &Officer, name: &str, id: &str) -> anyhow::Result<()> {
    wait_for(REPLICATION_TIMEOUT, "the record reaches the peer", || {
        let mut search = officer.search();
        let request = SearchRequest {
            text: name.to_string(),
            ..Default::default()
        };
        let id = id.to_string();
        async move {
            match search.search(request).await {
                Ok(r) => {
                    let hits = r.into_inner().hits;
                    if hits
                        .iter()
                        .any(|h| h.record.as_ref().is_some_and(|r| r.id == id))
                    {
                        Ok(())
                    } else {
                        Err(format!("{} hits, not yet the record", hits.len()))
                    }
                }
                Err(status) => Err(format!("{:?}: {}", status.code(), status.message())),
            }
        }
    })
    .await
}

#[tokio::test]
async fn a_person_known_across_the_border_is_named_at_every_new_record() -> anyhow::Result<()> {
    let mesh = Mesh::two_states(DHANBAD, ASANSOL)?.start().await?;
    let dhanbad = mesh.officer(DHANBAD, "JH-7001", Role::Officer).await?;
    let asansol = mesh.officer(ASANSOL, "WB-7101", Role::Officer).await?;

    // Added in Dhanbad, federated to Asansol.
    let mut first = person("Ravi Kumar Yadav", "Ramesh Yadav", 1990);
    first.phones = vec!["+91 98765 43210".into()];
    let first = dhanbad
        .records()
        .create(CreateRecordRequest {
            record: Some(first),
        })
        .await?
        .into_inner();
    wait_until_found(&asansol, "Ravi Kumar Yadav", &first.id).await?;

    // A similar person added in Asansol: the create names Dhanbad's record, and the new
    // record is stored all the same.
    let response = asansol
        .records()
        .create_and_match(CreateRecordRequest {
            record: Some(person("Rawi Kumar Yadaw", "Ramesh Yadav", 1991)),
        })
        .await?
        .into_inner();
    let created = response.record.expect("the created record");
    assert!(!created.id.is_empty() && created.origin == ASANSOL);
    let best = response
        .likely_matches
        .first()
        .unwrap_or_else(|| panic!("no likely match in {:?}", response.likely_matches));
    assert_eq!(best.id, first.id);
    assert_eq!(best.origin, DHANBAD);
    assert_eq!(best.name, "Ravi Kumar Yadav");
    assert!(best.score > 0.8 && best.score <= 1.0, "{best:?}");
    assert!(
        best.reasons.iter().any(|r| r.contains("father_name")),
        "{best:?}"
    );
    // Someone else entirely has none.
    let other = asansol
        .records()
        .create_and_match(CreateRecordRequest {
            record: Some(person("Bhupendra Kisku", "Somra Kisku", 1984)),
        })
        .await?
        .into_inner();
    assert!(
        other.likely_matches.is_empty(),
        "{:?}",
        other.likely_matches
    );

    // Through the real `setu record add`: the sentence and the command to open it.
    let cli = config(&mesh, ASANSOL, "WB-7102")?;
    let added = setu(
        &cli,
        &[
            "record",
            "add",
            "--name",
            "Ravi Yadav",
            "--father-name",
            "Ramesh Yadav",
            "--birth-year",
            "1990",
            "--phone",
            "09876543210",
        ],
    )
    .await?
    .success()?;
    assert!(added.stdout.starts_with("created record "), "{added}");
    assert!(
        added.stdout.contains(&format!(
            "possibly the same person as Ravi Kumar Yadav s/o Ramesh Yadav ({DHANBAD}, score "
        )),
        "{added}"
    );
    assert!(
        added
            .stdout
            .contains(&format!("setu record show {}", first.id)),
        "{added}"
    );
    let json = setu_json(
        &cli,
        &[
            "record",
            "add",
            "--name",
            "Ravi K. Yadav",
            "--father-name",
            "Ramesh Yadav",
        ],
    )
    .await?;
    let ids: Vec<&str> = json["likely_matches"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["id"].as_str()).collect())
        .unwrap_or_default();
    assert!(ids.contains(&first.id.as_str()), "{json}");
    assert_eq!(json["origin"], ASANSOL, "{json}");

    // An import reports them per row; the rows are imported.
    let rows = vec![
        ImportRow {
            row: 1,
            record: Some(person("Sunil Minz", "Petrus Minz", 1985)),
        },
        ImportRow {
            row: 2,
            record: Some(person("Ravi Kumar Yadav", "Ramesh Yadav", 1990)),
        },
    ];
    let messages = vec![
        ImportRequest {
            part: Some(Part::Header(ImportHeader {
                dry_run: false,
                source: "likely.csv".into(),
            })),
        },
        ImportRequest {
            part: Some(Part::Batch(ImportBatch { rows })),
        },
    ];
    let report = asansol
        .imports()
        .import(tokio_stream::iter(messages))
        .await?
        .into_inner();
    assert_eq!(report.created, 2);
    let row = report
        .likely_matches
        .iter()
        .find(|r| r.row == 2)
        .unwrap_or_else(|| panic!("row 2 has no likely match: {report:?}"));
    assert!(!row.id.is_empty());
    assert!(
        row.likely_matches
            .iter()
            .any(|m| m.id == first.id && m.origin == DHANBAD),
        "{row:?}"
    );
    assert!(
        report.likely_matches.iter().all(|r| r.row != 1),
        "{report:?}"
    );
    Ok(())
}
