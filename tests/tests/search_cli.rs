//! `setu search` and `setu record show --save-photos` through the real binary against a
//! real node: the right record comes first and says why, filters and other criteria reach
//! the node, paging follows the printed hint, mistakes end with a non-zero exit naming the
//! flag, and saved photos carry the SHA-256 the record lists. Every person is fictional.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use setu_client::render::shell_word;
use setu_proto::v1::search_service_client::SearchServiceClient;
use setu_proto::v1::upload_photo_request::Part;
use setu_proto::v1::{
    CaseRef, CaseRole, CreateMoNoteRequest, CreateRecordRequest, Gender, Handling, MoCategory,
    PersonRecord, PersonStatus, SearchRequest, UploadPhotoHeader, UploadPhotoRequest, Warning,
};
use setu_tests::bins::{
    binary, officer_config, setu, setu_json, setu_with, text, Finished, CLIENT_BIN,
};
use setu_tests::wait::wait_for;
use setu_tests::{png_bytes, sample_note, District, Officer, Role};
use sha2::{Digest, Sha256};

const DHANBAD: &str = "jh-dhanbad";

/// How long a new record may take to become searchable.
const INDEX_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a next-page command run through the shell may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The record ids of a search's hits, best first.
fn hit_ids(found: &Value) -> Vec<String> {
    found["hits"]
        .as_array()
        .map(|hits| {
            hits.iter()
                .map(|h| text(&h["record"], "id").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn assert_failed(finished: &Finished, needles: &[&str]) {
    assert!(
        !finished.status.success(),
        "the command should fail:\n{finished}"
    );
    for needle in needles {
        assert!(
            finished.stderr.contains(needle),
            "stderr should mention {needle:?}:\n{finished}"
        );
    }
    assert!(
        finished.stdout.is_empty(),
        "nothing goes to stdout:\n{finished}"
    );
}

/// The fictional people of these tests, by record id.
struct People {
    /// "Raju Yadav": wanted, armed, born 1990, with a phone, a vehicle, an FIR and an MO note.
    raju: String,
    /// "Raaju Yadav": a spelling variant of the same name, arrested.
    raaju: String,
    /// "Test Mohan Yadav": the same surname only, wanted, age unknown.
    mohan: String,
    /// "Sunil Test Mahato": nothing in common with the others.
    sunil: String,
    /// The ATM-robbery MO note linked to Raju Yadav.
    note: String,
}

/// A district node, an officer connected over gRPC, and a client config for the CLI.
struct World {
    district: District,
    officer: Officer,
    config: PathBuf,
    people: People,
}

async fn create(officer: &Officer, record: PersonRecord) -> anyhow::Result<String> {
    Ok(officer
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await?
        .into_inner()
        .id)
}

fn person(name: &str, status: PersonStatus) -> PersonRecord {
    PersonRecord {
        name: name.to_string(),
        status: status as i32,
        handling: Handling::Peers as i32,
        ..Default::default()
    }
}

/// Starts a node, creates the people and the MO note through the real API, and waits (with
/// a deadline) until the node's search finds every one of them.
async fn world() -> anyhow::Result<World> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-7001", Role::Officer).await?;
    let config = officer_config(&district, "JH-7002", Role::Officer)?;

    let raju = create(
        &officer,
        PersonRecord {
            aliases: vec!["Pappu Test".to_string()],
            father_name: "Imaginary Lal Yadav".to_string(),
            gender: Gender::Male as i32,
            birth_year: 1990,
            warnings: vec![Warning::Armed as i32],
            phones: vec!["+91 90000 12345".to_string()],
            vehicles: vec!["JH 99 ZZ 1234".to_string()],
            cases: vec![CaseRef {
                fir_number: "112/2025".to_string(),
                police_station: "Jharia".to_string(),
                year: 2025,
                sections: vec!["BNS 309(4)".to_string()],
                role: CaseRole::Accused as i32,
            }],
            ..person("Raju Yadav", PersonStatus::Wanted)
        },
    )
    .await?;
    let raaju = create(
        &officer,
        PersonRecord {
            father_name: "Fictional Prasad".to_string(),
            birth_year: 1985,
            ..person("Raaju Yadav", PersonStatus::Arrested)
        },
    )
    .await?;
    let mohan = create(&officer, person("Test Mohan Yadav", PersonStatus::Wanted)).await?;
    let sunil = create(&officer, person("Sunil Test Mahato", PersonStatus::Wanted)).await?;
    let note = officer
        .mo()
        .create(CreateMoNoteRequest {
            note: Some(sample_note(
                MoCategory::AtmRobbery,
                "Cash van looted outside an ATM kiosk; the gang opened firing at the guard.",
                std::slice::from_ref(&raju),
            )),
        })
        .await?
        .into_inner()
        .id;

    let search = SearchServiceClient::new(officer.channel.clone());
    let everyone: BTreeSet<String> = [&raju, &raaju, &mohan].into_iter().cloned().collect();
    wait_for(INDEX_TIMEOUT, "the node finds every Yadav", || {
        let mut search = search.clone();
        let everyone = everyone.clone();
        async move {
            let found: BTreeSet<String> = search
                .search(SearchRequest {
                    text: "yadav".to_string(),
                    page_size: 100,
                    ..Default::default()
                })
                .await
                .map_err(|s| s.to_string())?
                .into_inner()
                .hits
                .into_iter()
                .filter_map(|h| h.record.map(|r| r.id))
                .collect();
            if found.is_superset(&everyone) {
                Ok(())
            } else {
                Err(format!("found only {found:?}"))
            }
        }
    })
    .await?;

    Ok(World {
        district,
        officer,
        config,
        people: People {
            raju,
            raaju,
            mohan,
            sunil,
            note,
        },
    })
}

#[tokio::test]
async fn the_right_record_comes_first_and_says_why() -> anyhow::Result<()> {
    let w = world().await?;
    let p = &w.people;

    let found = setu_json(&w.config, &["search", "raju yadav"]).await?;
    let ids = hit_ids(&found);
    assert_eq!(ids.first(), Some(&p.raju), "Raju Yadav first:\n{found:#}");
    assert!(!ids.contains(&p.sunil), "no match for Sunil:\n{found:#}");
    let first = &found["hits"][0];
    let score = first["score"].as_f64().unwrap_or_default();
    assert!(score > 0.0 && score <= 1.0, "score in (0, 1]: {first:#}");
    let reasons = first["reasons"].as_array().cloned().unwrap_or_default();
    assert!(
        reasons
            .iter()
            .any(|r| text(r, "field") == "name" && !text(r, "detail").is_empty()),
        "the name is a reason, in words:\n{first:#}"
    );
    assert!(
        found["total"].as_u64().unwrap_or_default() >= ids.len() as u64,
        "{found:#}"
    );
    assert!(found["total_is_estimate"].is_boolean(), "{found:#}");
    assert!(found["mo_notes"].is_array(), "{found:#}");

    // Each hit's record is exactly what `record show --json` prints.
    let shown = setu_json(&w.config, &["record", "show", &p.raju]).await?;
    assert_eq!(first["record"], shown, "the record JSON has one shape");

    // The human table: the row, the id and the reasons under it, and the count.
    let table = setu(&w.config, &["search", "raju", "yadav"])
        .await?
        .success()?;
    let out = &table.stdout;
    let header = out.lines().next().unwrap_or_default();
    for column in ["#", "NAME", "ALIASES", "FATHER", "AGE", "STATUS", "SCORE"] {
        assert!(header.contains(column), "{column} in the header:\n{table}");
    }
    let row = out
        .lines()
        .find(|l| l.starts_with("1 "))
        .unwrap_or_default();
    for cell in [
        "Raju Yadav",
        "Pappu Test",
        "Imaginary Lal Yadav",
        "wanted",
        "armed",
        DHANBAD,
        "112/2025 Jharia",
    ] {
        assert!(row.contains(cell), "{cell:?} in the first row:\n{table}");
    }
    assert!(
        out.contains(&format!("\n   record {}\n   - name ", p.raju)),
        "the id and the reasons follow the row:\n{table}"
    );
    assert!(
        out.lines().any(|l| l.ends_with(" shown")),
        "how many are shown:\n{table}"
    );

    // Nobody by that name.
    let none = setu(&w.config, &["search", "Zzyzx Qwerty"])
        .await?
        .success()?;
    assert!(none.stdout.starts_with("No records matched."), "{none}");
    Ok(())
}

#[tokio::test]
async fn filters_and_other_criteria_narrow_the_search() -> anyhow::Result<()> {
    let w = world().await?;
    let p = &w.people;

    // --status: only arrested records, so the spelling variant and not the wanted man.
    let arrested = setu_json(&w.config, &["search", "raju yadav", "--status", "arrested"]).await?;
    let ids = hit_ids(&arrested);
    assert!(ids.contains(&p.raaju), "{arrested:#}");
    assert!(!ids.contains(&p.raju), "{arrested:#}");
    for hit in arrested["hits"].as_array().cloned().unwrap_or_default() {
        assert_eq!(text(&hit["record"], "status"), "arrested", "{arrested:#}");
    }
    let wanted = setu_json(
        &w.config,
        &[
            "search",
            "raju yadav",
            "--status",
            "wanted",
            "--status",
            "absconding",
            "--district",
            DHANBAD,
            "--warning",
            "armed",
        ],
    )
    .await?;
    assert_eq!(hit_ids(&wanted), vec![p.raju.clone()], "{wanted:#}");
    // A district this node does not know is refused rather than matching nothing.
    let elsewhere = setu(
        &w.config,
        &["search", "raju yadav", "--district", "br-gaya"],
    )
    .await?;
    assert_failed(&elsewhere, &["--district br-gaya", "no such district"]);

    // Year of birth, give or take the tolerance: Raju (1990), not Raaju (1985), and not
    // Mohan, whose age is unknown.
    let born = setu_json(&w.config, &["search", "yadav", "--born", "1991"]).await?;
    let ids = hit_ids(&born);
    assert!(ids.contains(&p.raju), "{born:#}");
    assert!(
        !ids.contains(&p.raaju) && !ids.contains(&p.mohan),
        "{born:#}"
    );
    let wide = setu_json(
        &w.config,
        &["search", "yadav", "--born", "1991", "--tolerance", "6"],
    )
    .await?;
    assert!(hit_ids(&wide).contains(&p.raaju), "{wide:#}");

    // Phone, vehicle and FIR, written differently from the record.
    for criteria in [
        &["--phone", "090000-12345"][..],
        &["--vehicle", "jh99zz1234"],
        &["--fir", "112", "--ps", "Jharia", "--fir-year", "2025"],
        &["--father", "imaginary lal yadav"],
    ] {
        let mut args = vec!["search"];
        args.extend_from_slice(criteria);
        let found = setu_json(&w.config, &args).await?;
        assert_eq!(
            hit_ids(&found).first(),
            Some(&p.raju),
            "{criteria:?}:\n{found:#}"
        );
    }

    // MO: by category, and free text that finds the note and the man linked to it.
    let mo = setu_json(&w.config, &["search", "yadav", "--mo", "atm-robbery"]).await?;
    assert_eq!(hit_ids(&mo), vec![p.raju.clone()], "{mo:#}");
    let by_text = setu_json(&w.config, &["search", "--mo-text", "ATM cash van firing"]).await?;
    assert_eq!(
        text(&by_text["mo_notes"][0]["note"], "id"),
        p.note,
        "{by_text:#}"
    );
    assert_eq!(
        text(&by_text["mo_notes"][0]["note"], "category"),
        "atm-robbery",
        "{by_text:#}"
    );
    assert!(
        by_text["mo_notes"][0]["matched"]
            .as_array()
            .is_some_and(|m| !m.is_empty()),
        "{by_text:#}"
    );
    assert!(hit_ids(&by_text).contains(&p.raju), "{by_text:#}");
    let human = setu(&w.config, &["search", "--mo-text", "ATM cash van firing"])
        .await?
        .success()?;
    assert!(human.stdout.contains("Matching MO notes:"), "{human}");
    assert!(human.stdout.contains(&p.note), "{human}");
    assert!(human.stdout.contains("atm-robbery"), "{human}");
    Ok(())
}

#[tokio::test]
async fn mistakes_exit_non_zero_naming_the_flag() -> anyhow::Result<()> {
    let w = world().await?;

    // Values clap refuses, naming the flag (and the allowed words).
    let finished = setu(&w.config, &["search", "raju", "--status", "fugitive"]).await?;
    assert_failed(&finished, &["--status", "absconding"]);
    let finished = setu(&w.config, &["search", "raju", "--mo", "pickpocket"]).await?;
    assert_failed(&finished, &["--mo", "atm-robbery"]);
    let finished = setu(&w.config, &["search", "raju", "--born", "ninety"]).await?;
    assert_failed(&finished, &["--born"]);

    // Flags that need another.
    let finished = setu(&w.config, &["search", "raju", "--tolerance", "3"]).await?;
    assert_failed(&finished, &["--born"]);
    let finished = setu(&w.config, &["search", "raju", "--fir", "112/2025"]).await?;
    assert_failed(&finished, &["--ps"]);

    // A mistyped district is refused with the districts the node knows, not taken for
    // "nothing matched"; so is an unknown origin of `record list`.
    let finished = setu(
        &w.config,
        &["search", "--district", "wb-asansol", "--status", "wanted"],
    )
    .await?;
    assert_failed(
        &finished,
        &["--district wb-asansol", "no such district", DHANBAD],
    );
    let finished = setu(&w.config, &["record", "list", "--origin", "jh-dhanbd"]).await?;
    assert_failed(
        &finished,
        &["--origin jh-dhanbd", "no such district", DHANBAD],
    );
    let known = setu(
        &w.config,
        &["search", "--district", DHANBAD, "--status", "wanted"],
    )
    .await?
    .success()?;
    assert!(known.stdout.contains("Raju Yadav"), "{known}");

    // At 100 columns nothing wraps.
    let narrow = setu_with(
        &w.config,
        &["search", "--status", "wanted"],
        &[("COLUMNS", "100")],
    )
    .await?
    .success()?;
    assert!(
        narrow.stdout.lines().all(|l| l.chars().count() <= 100),
        "{narrow}"
    );
    assert!(narrow.stdout.contains("Raju Yadav"), "{narrow}");

    // Nothing to search for.
    let finished = setu(&w.config, &["search", "--limit", "5"]).await?;
    assert_failed(&finished, &["nothing to search for"]);

    // What only the node can judge comes back as its refusal, naming the field in words.
    let finished = setu(
        &w.config,
        &["search", "raju", "--born", "1990", "--tolerance", "50"],
    )
    .await?;
    assert_failed(
        &finished,
        &["error: the birth-year tolerance (--tolerance)"],
    );
    assert!(!finished.stderr.contains("invalid argument"), "{finished}");
    let finished = setu(
        &w.config,
        &["search", "raju", "--page-token", "not-a-page-token"],
    )
    .await?;
    assert_failed(&finished, &["error: the page token"]);
    Ok(())
}

/// Runs a command line printed by `setu` through the shell, with `setu` replaced by the
/// real binary, so that its quoting is tested as an officer would paste it.
async fn run_printed(command: &str) -> anyhow::Result<Finished> {
    let rest = command
        .strip_prefix("setu ")
        .with_context(|| format!("not a setu command: {command}"))?;
    let binary = binary(CLIENT_BIN)?;
    let line = format!("{} {rest}", shell_word(&binary.to_string_lossy()));
    let output = tokio::time::timeout(
        COMMAND_TIMEOUT,
        tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .env_remove("SETU_CONFIG")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .with_context(|| format!("`{line}` did not finish in time"))??;
    Ok(Finished {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// The record ids a human search table lists, from the `record ID` lines under its rows.
fn table_ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("   record "))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_next_page_hint_pages_through_every_hit_once() -> anyhow::Result<()> {
    let w = world().await?;
    let p = &w.people;

    let first = setu_json(&w.config, &["search", "yadav", "--limit", "1"]).await?;
    assert_eq!(hit_ids(&first).len(), 1, "{first:#}");
    assert!(!text(&first, "next_page_token").is_empty(), "{first:#}");
    assert!(
        first["total"].as_u64().unwrap_or_default() >= 3,
        "{first:#}"
    );

    let mut page = setu(&w.config, &["search", "yadav", "--limit", "1"])
        .await?
        .success()?;
    let mut seen = Vec::new();
    for _ in 0..10 {
        let ids = table_ids(&page.stdout);
        assert_eq!(ids.len(), 1, "one hit per page:\n{page}");
        seen.extend(ids);
        let Some(next) = page
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("next page: "))
            .map(str::to_string)
        else {
            break;
        };
        assert!(
            next.contains(" search yadav --limit 1 --page-token "),
            "the hint repeats the search:\n{page}"
        );
        page = run_printed(&next).await?.success()?;
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no hit twice: {seen:?}");
    for id in [&p.raju, &p.raaju, &p.mohan] {
        assert!(seen.contains(id), "{id} on some page: {seen:?}");
    }
    Ok(())
}

/// Uploads a photo to a record through the real API and returns its SHA-256.
async fn upload(officer: &Officer, record_id: &str, bytes: &[u8]) -> anyhow::Result<String> {
    let messages = vec![
        UploadPhotoRequest {
            part: Some(Part::Header(UploadPhotoHeader {
                record_id: record_id.to_string(),
                expected_version: 0,
            })),
        },
        UploadPhotoRequest {
            part: Some(Part::Chunk(bytes.to_vec())),
        },
    ];
    let response = officer
        .photos()
        .upload(tokio_stream::iter(messages))
        .await?
        .into_inner();
    Ok(response.photo.map(|p| p.sha256).unwrap_or_default())
}

#[tokio::test]
async fn record_show_saves_every_photo_under_its_sha256() -> anyhow::Result<()> {
    let w = world().await?;
    let p = &w.people;
    let pngs = [png_bytes([200, 10, 10]), png_bytes([10, 200, 10])];
    let mut shas = Vec::new();
    for png in &pngs {
        let sha = upload(&w.officer, &p.raju, png).await?;
        assert_eq!(sha, hex::encode(Sha256::digest(png)));
        shas.push(sha);
    }

    // Human: the card, then where each photo went, in a folder that did not exist.
    let dir = w.district.dir().join("saved").join("raju");
    let dir_arg = dir.to_string_lossy().into_owned();
    let shown = setu(
        &w.config,
        &["record", "show", &p.raju, "--save-photos", &dir_arg],
    )
    .await?
    .success()?;
    assert!(shown.stdout.contains("Raju Yadav"), "{shown}");
    for (sha, png) in shas.iter().zip(&pngs) {
        let path = dir.join(format!("{sha}.png"));
        let saved = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        assert_eq!(&saved, png, "the saved photo is identical");
        assert_eq!(hex::encode(Sha256::digest(&saved)), *sha);
        assert!(
            shown.stdout.contains(&format!(
                "saved {} ({} bytes, image/png)",
                path.display(),
                png.len()
            )),
            "where {sha} went:\n{shown}"
        );
    }

    // JSON: the record and the saved files.
    let json_dir = w.district.dir().join("saved-json");
    let json_arg = json_dir.to_string_lossy().into_owned();
    let shown = setu_json(
        &w.config,
        &["record", "show", &p.raju, "--save-photos", &json_arg],
    )
    .await?;
    assert_eq!(text(&shown["record"], "id"), p.raju, "{shown:#}");
    let saved = shown["saved"].as_array().cloned().unwrap_or_default();
    assert_eq!(saved.len(), 2, "{shown:#}");
    for (entry, sha) in saved.iter().zip(&shas) {
        assert_eq!(text(&entry["photo"], "sha256"), sha, "{shown:#}");
        let path = PathBuf::from(text(entry, "path"));
        assert_eq!(path, json_dir.join(format!("{sha}.png")), "{shown:#}");
        assert_eq!(hex::encode(Sha256::digest(std::fs::read(&path)?)), *sha);
    }

    // A record without photos says so; `record photo get` still works.
    let bare_dir = w.district.dir().join("saved-none");
    let bare = setu(
        &w.config,
        &[
            "record",
            "show",
            &p.mohan,
            "--save-photos",
            &bare_dir.to_string_lossy(),
        ],
    )
    .await?
    .success()?;
    assert!(bare.stdout.contains("no photos to save"), "{bare}");
    let out = w.district.dir().join("one.png");
    setu(
        &w.config,
        &[
            "record",
            "photo",
            "get",
            &p.raju,
            &shas[0],
            "--out",
            &out.to_string_lossy(),
        ],
    )
    .await?
    .success()?;
    assert_eq!(std::fs::read(&out)?, pngs[0]);
    Ok(())
}
