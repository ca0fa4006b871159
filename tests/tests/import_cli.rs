//! `setu import` and `setu export` through the real binary against a real node: good rows
//! are stored and bad ones reported by row, line, field and reason (exit status 3), cells in
//! Devanagari arrive as written, a second import of the same file creates no duplicates, a
//! dry run stores nothing, `--map` reads other headers, JSON Lines imports too, and an
//! export imports back unchanged, here and into another district. Every person is
//! fictional.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use anyhow::Context;
use setu_proto::v1::{ListRecordsRequest, PersonRecord, PersonStatus, Warning};
use setu_tests::bins::{officer_config, setu, setu_json, Finished};
use setu_tests::{District, Officer, Role};

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";

/// The exit status of an import that rejected some rows.
const ROWS_REJECTED: i32 = 3;

/// A district node, an officer on gRPC to check what was stored, and a client config for
/// the CLI.
struct World {
    district: District,
    officer: Officer,
    config: PathBuf,
}

async fn world(id: &str, badge: &str) -> anyhow::Result<World> {
    let district = District::start(id).await?;
    let officer = district
        .officer(&format!("{badge}-GRPC"), Role::Officer)
        .await?;
    let config = officer_config(&district, badge, Role::Officer)?;
    Ok(World {
        district,
        officer,
        config,
    })
}

impl World {
    /// Writes `text` to a file of the district's folder and returns its path.
    fn file(&self, name: &str, text: &str) -> anyhow::Result<PathBuf> {
        let path = self.district.dir().join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Runs `setu ARGS...` with this world's config.
    async fn setu(&self, args: &[&str]) -> anyhow::Result<Finished> {
        setu(&self.config, args).await
    }

    /// Every record of the node, in id order.
    async fn records(&self) -> anyhow::Result<Vec<PersonRecord>> {
        Ok(self
            .officer
            .records()
            .list(ListRecordsRequest {
                page_size: 500,
                ..Default::default()
            })
            .await?
            .into_inner()
            .records)
    }

    /// The record holding `external_ref`.
    async fn by_ref(&self, external_ref: &str) -> anyhow::Result<PersonRecord> {
        self.records()
            .await?
            .into_iter()
            .find(|r| r.external_ref == external_ref)
            .with_context(|| format!("no record has external_ref {external_ref}"))
    }
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn assert_exit(finished: &Finished, code: i32) {
    assert_eq!(
        finished.status.code(),
        Some(code),
        "unexpected exit status:\n{finished}"
    );
}

fn assert_stdout(finished: &Finished, needles: &[&str]) {
    for needle in needles {
        assert!(
            finished.stdout.contains(needle),
            "stdout should contain {needle:?}:\n{finished}"
        );
    }
}

/// Six rows: two good ones, two whose cells the client cannot read (rows 2 and 3), two the
/// node refuses (rows 4 and 6).
const MIXED_CSV: &str = "\
external_ref,name,name_local,father_name,birth_year,status,phones,warnings
DHN-T-001,Test Raju Mahto,टेस्ट राजू महतो,Imaginary Shankar,1991,wanted,+91 90000 10001;+91 90000 10002,armed
DHN-T-002,Test Sunil Yadav,,Imaginary Lal,abc,wanted,,
DHN-T-003,Test Mohan Kumar,,,1985,fugitive,,
DHN-T-004,Test Kalu Prasad,,,1850,arrested,,
DHN-T-005,Test Babloo Singh,टेस्ट बबलू सिंह,,,,+91 90000 10005,
DHN-T-006,,,,1990,,,
";

#[tokio::test]
async fn good_rows_are_stored_bad_rows_reported_and_a_second_import_duplicates_nothing(
) -> anyhow::Result<()> {
    let w = world(DHANBAD, "JH-8101").await?;
    let file = w.file("mixed.csv", MIXED_CSV)?;

    let first = w.setu(&["import", &path_arg(&file)]).await?;
    assert_exit(&first, ROWS_REJECTED);
    assert_stdout(
        &first,
        &[
            "imported 2 new, 0 updated, 0 unchanged, 4 rejected\n",
            "row 2 (line 3): birth_year: 'abc' is not a year\n",
            "row 3 (line 4): status: 'fugitive' is not a status",
            "row 4 (line 5): birth_year: ",
            "row 6 (line 7): name: ",
        ],
    );
    let order: Vec<&str> = first
        .stdout
        .lines()
        .filter(|l| l.starts_with("row "))
        .collect();
    assert_eq!(order.len(), 4, "{first}");
    assert!(order[2].starts_with("row 4") && order[3].starts_with("row 6"));
    assert!(
        first.stderr.contains("4 of 6 rows were rejected"),
        "{first}"
    );

    let records = w.records().await?;
    assert_eq!(records.len(), 2, "{records:?}");
    let raju = w.by_ref("DHN-T-001").await?;
    assert_eq!(raju.name, "Test Raju Mahto");
    assert_eq!(raju.name_local, "टेस्ट राजू महतो");
    assert_eq!(raju.phones, vec!["+91 90000 10001", "+91 90000 10002"]);
    assert_eq!(raju.status, PersonStatus::Wanted as i32);
    assert_eq!(raju.warnings, vec![Warning::Armed as i32]);
    assert_eq!(w.by_ref("DHN-T-005").await?.name_local, "टेस्ट बबलू सिंह");

    // The same file again: the external references find the stored records.
    let second = w.setu(&["import", &path_arg(&file)]).await?;
    assert_exit(&second, ROWS_REJECTED);
    assert_stdout(
        &second,
        &["imported 0 new, 0 updated, 2 unchanged, 4 rejected\n"],
    );
    let again = w.records().await?;
    assert_eq!(again, records, "nothing changed");

    // A corrected file: the fixed rows come in, a changed row updates its record.
    let fixed = w.file(
        "fixed.csv",
        "external_ref,name,birth_year,status,phones\n\
         DHN-T-001,Test Raju Mahto,1991,arrested,+91 90000 10001;+91 90000 10002\n\
         DHN-T-002,Test Sunil Yadav,1988,wanted,\n",
    )?;
    let third = w.setu(&["import", &path_arg(&fixed), "--json"]).await?;
    assert_exit(&third, 0);
    let report: serde_json::Value = serde_json::from_str(&third.stdout)
        .with_context(|| format!("the report is not JSON:\n{third}"))?;
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["updated"], 1, "{report}");
    assert_eq!(report["rejected"], 0, "{report}");
    assert_eq!(report["rows"], 2, "{report}");
    let raju = w.by_ref("DHN-T-001").await?;
    assert_eq!(raju.status, PersonStatus::Arrested as i32);
    assert_eq!(raju.version, 2);
    assert_eq!(w.records().await?.len(), 3);
    Ok(())
}

#[tokio::test]
async fn a_dry_run_reports_and_stores_nothing() -> anyhow::Result<()> {
    let w = world(DHANBAD, "JH-8102").await?;
    let file = w.file("mixed.csv", MIXED_CSV)?;
    let dry = w.setu(&["import", &path_arg(&file), "--dry-run"]).await?;
    assert_exit(&dry, ROWS_REJECTED);
    assert_stdout(
        &dry,
        &[
            "dry run, nothing stored: would import 2 new, 0 updated, 0 unchanged, 4 rejected\n",
            "row 2 (line 3): birth_year: 'abc' is not a year\n",
        ],
    );
    assert!(dry.stderr.contains("would be rejected"), "{dry}");
    assert!(w.records().await?.is_empty());

    let json = w
        .setu(&["import", &path_arg(&file), "--dry-run", "--json"])
        .await?;
    let report: serde_json::Value = serde_json::from_str(&json.stdout)
        .with_context(|| format!("the report is not JSON:\n{json}"))?;
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["errors"][0]["row"], 2);
    assert_eq!(report["errors"][0]["line"], 3);
    assert_eq!(report["errors"][0]["field"], "birth_year");
    assert!(w.records().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn other_headers_are_mapped_and_unknown_ones_refused_before_sending() -> anyhow::Result<()> {
    let w = world(DHANBAD, "JH-8103").await?;
    let file = w.file(
        "hindi-headers.csv",
        "Kramank,Naam,Pita,Umar Se,Umar Tak,Sthiti\n\
         DHN-T-101,Test Pappu Mandal,Imaginary Mandal,25,30,on bail\n",
    )?;

    let unmapped = w.setu(&["import", &path_arg(&file)]).await?;
    assert_exit(&unmapped, 1);
    assert!(
        unmapped
            .stderr
            .contains("column 1: \"Kramank\" is not a record field"),
        "{unmapped}"
    );
    assert!(
        unmapped.stderr.contains("--map FIELD=Kramank"),
        "{unmapped}"
    );
    assert!(unmapped.stdout.is_empty(), "{unmapped}");

    let mapped = w
        .setu(&[
            "import",
            &path_arg(&file),
            "--map",
            "external_ref=Kramank,name=Naam,father_name=Pita",
            "--map",
            "age_min=Umar Se,age_max=umar tak,status=Sthiti",
        ])
        .await?;
    assert_exit(&mapped, 0);
    assert_stdout(
        &mapped,
        &["imported 1 new, 0 updated, 0 unchanged, 0 rejected\n"],
    );
    let pappu = w.by_ref("DHN-T-101").await?;
    assert_eq!(pappu.name, "Test Pappu Mandal");
    assert_eq!(pappu.father_name, "Imaginary Mandal");
    assert_eq!((pappu.age_min, pappu.age_max), (25, 30));
    assert_eq!(pappu.status, PersonStatus::OnBail as i32);

    let missing = w
        .setu(&[
            "import",
            &path_arg(&file),
            "--map",
            "external_ref=Kramank,name=Naam,father_name=Pita,age_min=Umar Se,\
             age_max=Umar Tak,status=Sthiti,aliases=Upnaam",
        ])
        .await?;
    assert_exit(&missing, 1);
    assert!(missing.stderr.contains("no column \"Upnaam\""), "{missing}");
    Ok(())
}

#[tokio::test]
async fn json_lines_import_with_arrays_and_objects() -> anyhow::Result<()> {
    let w = world(DHANBAD, "JH-8104").await?;
    let file = w.file(
        "people.jsonl",
        concat!(
            r#"{"external_ref": "DHN-T-201", "name": "Test Chhotu Ansari", "name_local": "टेस्ट छोटू अंसारी", "aliases": ["Chhotu", "Babu"], "birth_year": 1994, "warnings": ["armed", "escape-risk"], "cases": ["112/2025@Jharia:BNS 309(4):accused", {"fir_number": "7", "police_station": "Test Nagar", "year": 2024, "sections": [], "role": "suspect"}]}"#,
            "\n\n",
            r#"{"external_ref": "DHN-T-202", "name": "Test Guddu Rana", "aliases": "Guddu; Rana Ji", "addresses": ["Ward 4, Jharia, Dhanbad, Jharkhand"]}"#,
            "\n",
            r#"{"external_ref": "DHN-T-203", "name": "Test Bad Year", "birth_year": "soon"}"#,
            "\n",
        ),
    )?;
    let imported = w.setu(&["import", &path_arg(&file)]).await?;
    assert_exit(&imported, ROWS_REJECTED);
    assert_stdout(
        &imported,
        &[
            "imported 2 new, 0 updated, 0 unchanged, 1 rejected\n",
            "row 3 (line 4): birth_year: 'soon' is not a year\n",
        ],
    );
    let chhotu = w.by_ref("DHN-T-201").await?;
    assert_eq!(chhotu.name_local, "टेस्ट छोटू अंसारी");
    assert_eq!(chhotu.aliases, vec!["Chhotu", "Babu"]);
    assert_eq!(chhotu.cases.len(), 2);
    assert_eq!(chhotu.cases[0].sections, vec!["BNS 309(4)"]);
    assert_eq!(chhotu.cases[1].fir_number, "7");
    assert_eq!(chhotu.cases[1].year, 2024);
    let guddu = w.by_ref("DHN-T-202").await?;
    assert_eq!(guddu.aliases, vec!["Guddu", "Rana Ji"]);
    assert_eq!(guddu.addresses[0].district, "Dhanbad");
    Ok(())
}

/// Rows using every column, for the round trip; a gender written as a spreadsheet's `F`.
const FULL_CSV: &str = "\
external_ref,name,name_local,aliases,father_name,gender,birth_year,age_min,age_max,addresses,identifying_marks,phones,vehicles,status,reward_inr,warnings,cases,associates,handling,review_by
DHN-T-301,Test Raju Mahto,टेस्ट राजू महतो,Kalua;कालू,Imaginary Shankar,male,1991,,,\"Ward 4\\, Block B, Jharia, Dhanbad, Jharkhand | Test Tola, Gaya Town\",scar on left cheek;tattoo 'Maa' on right arm,+91 90000 20001,JH 99 ZZ 3001,wanted,\"1,00,000\",armed;escape-risk,112/2025@Jharia:BNS 309(4);BNS 111:accused | 7/2024@Gaya Town,,peers,
DHN-T-302,Test Sunita Devi,टेस्ट सुनीता देवी,,Imaginary Ram,F,,30,35,,,,,on-bail,,,,,local-only,
DHN-T-303,Test Kishan Oraon,,Kishu,,,1980,,,,,+91 90000 20003;+91 90000 20004,WB 99 ZZ 3003,absconding,5000,violent,9/2023@Test Nagar:suspect,,federation,
";

/// A record without what the node sets itself, to compare content across nodes.
fn content(mut record: PersonRecord) -> PersonRecord {
    record.id.clear();
    record.origin.clear();
    record.version = 0;
    record.created_at_ms = 0;
    record.updated_at_ms = 0;
    record.created_by.clear();
    record.updated_by.clear();
    record
}

#[tokio::test]
async fn an_export_imports_back_unchanged_here_and_elsewhere() -> anyhow::Result<()> {
    let w = world(DHANBAD, "JH-8105").await?;
    let file = w.file("full.csv", FULL_CSV)?;
    let imported = w.setu(&["import", &path_arg(&file)]).await?;
    assert_exit(&imported, 0);
    assert_stdout(
        &imported,
        &["imported 3 new, 0 updated, 0 unchanged, 0 rejected\n"],
    );
    let before = w.records().await?;
    let raju = w.by_ref("DHN-T-301").await?;
    assert_eq!(raju.addresses.len(), 2);
    assert_eq!(raju.addresses[0].locality, "Ward 4, Block B");
    assert_eq!(raju.reward_inr, 100_000);
    assert_eq!(raju.cases[0].sections, vec!["BNS 309(4)", "BNS 111"]);

    // CSV to a file, then back in: every record unchanged, not even a new version.
    let out = w.district.dir().join("export.csv");
    let summary = setu_json(&w.config, &["export", "--out", &path_arg(&out)]).await?;
    assert_eq!(summary["exported"], 3, "{summary}");
    assert_eq!(summary["format"], "csv", "{summary}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&out)?.permissions().mode() & 0o777,
        0o600,
        "an export holds personal data"
    );
    let exported = std::fs::read_to_string(&out)?;
    assert!(
        exported.starts_with("external_ref,name,name_local,aliases,father_name,"),
        "{exported}"
    );
    assert!(exported.contains("टेस्ट राजू महतो"), "{exported}");
    let again = w.setu(&["import", &path_arg(&out)]).await?;
    assert_exit(&again, 0);
    assert_stdout(
        &again,
        &["imported 0 new, 0 updated, 3 unchanged, 0 rejected\n"],
    );
    assert_eq!(w.records().await?, before);

    // JSON Lines on standard output, into another district's empty node: the same content.
    let jsonl = w.setu(&["export", "--format", "jsonl"]).await?.success()?;
    assert!(jsonl.stderr.contains("exported 3 records"), "{jsonl}");
    assert_eq!(jsonl.stdout.lines().count(), 3, "{jsonl}");
    let other = world(ASANSOL, "WB-8105").await?;
    let moved = other.file("from-dhanbad.jsonl", &jsonl.stdout)?;
    let arrived = other.setu(&["import", &path_arg(&moved)]).await?;
    assert_exit(&arrived, 0);
    assert_stdout(
        &arrived,
        &["imported 3 new, 0 updated, 0 unchanged, 0 rejected\n"],
    );
    let mut here: Vec<PersonRecord> = before.into_iter().map(content).collect();
    let mut there: Vec<PersonRecord> = other.records().await?.into_iter().map(content).collect();
    here.sort_by(|a, b| a.external_ref.cmp(&b.external_ref));
    there.sort_by(|a, b| a.external_ref.cmp(&b.external_ref));
    assert_eq!(there, here);
    Ok(())
}

#[tokio::test]
async fn an_import_the_node_refuses_ends_at_once_with_its_reason() -> anyhow::Result<()> {
    let w = world(DHANBAD, "JH-8106").await?;
    // An officer of another district of the same state, certified by the state CA: the
    // node refuses it, and the import stops. The file is long enough to fill the queue of
    // batches, so the reader must be told to stop.
    let cert = w
        .district
        .ca
        .officer("jh-bokaro", "WB-8106", Role::Officer)?;
    let config = w.district.dir().join("WB-8106.toml");
    setu_tests::bins::write_client_config(
        &config,
        &w.district.node.url(),
        &w.district.ca.cert_path(),
        &cert,
    )?;
    let mut text = String::from("external_ref,name\n");
    for i in 0..20_000 {
        text.push_str(&format!("DHN-T-{i:05},Test Person {i}\n"));
    }
    let file = w.file("many.csv", &text)?;
    let refused = setu(
        &config,
        &["import", &path_arg(&file), "--batch-rows", "100"],
    )
    .await?;
    assert_exit(&refused, 1);
    assert!(refused.stderr.contains("not allowed"), "{refused}");
    assert!(refused.stdout.is_empty(), "{refused}");
    assert!(w.records().await?.is_empty());
    Ok(())
}
