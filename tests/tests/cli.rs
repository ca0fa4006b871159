//! The officers' `setu` binary against a real node: records, photos and MO notes round
//! trip through the command line, and mistakes end with a non-zero exit and a clear
//! message on stderr.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use setu_proto::v1::{GetRecordRequest, PersonStatus, Warning};
use setu_tests::bins::{officer_config, setu, setu_json, text, write_client_config, Finished};
use setu_tests::{png_bytes, District, Role, TestCa};
use sha2::{Digest, Sha256};

const DHANBAD: &str = "jh-dhanbad";

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
}

#[tokio::test]
async fn records_photos_and_notes_round_trip_through_the_cli() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = officer_config(&district, "JH-6001", Role::Officer)?;
    let admin = officer_config(&district, "JH-9006", Role::Admin)?;

    // record add
    let created = setu_json(
        &officer,
        &[
            "record",
            "add",
            "--name",
            "Test Kumar Example",
            "--father-name",
            "Imaginary Prasad",
            "--alias",
            "Kalu Test",
            "--alias",
            "Chhotu Test",
            "--status",
            "wanted",
            "--phone",
            "+91 90000 00002",
            "--vehicle",
            "JH 99 ZZ 0002",
            "--warning",
            "armed",
        ],
    )
    .await?;
    let id = text(&created, "id").to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{created}");
    assert_eq!(text(&created, "origin"), DHANBAD);
    assert_eq!(created["version"], 1);

    // What the node stored, read over gRPC rather than through the CLI.
    let reader = district.officer("JH-6002", Role::Officer).await?;
    let stored = reader
        .records()
        .get(GetRecordRequest { id: id.clone() })
        .await?
        .into_inner();
    assert_eq!(stored.name, "Test Kumar Example");
    assert_eq!(stored.father_name, "Imaginary Prasad");
    assert_eq!(stored.aliases, vec!["Kalu Test", "Chhotu Test"]);
    assert_eq!(stored.status, PersonStatus::Wanted as i32);
    assert_eq!(stored.phones, vec!["+91 90000 00002"]);
    assert_eq!(stored.vehicles, vec!["JH 99 ZZ 0002"]);
    assert_eq!(stored.warnings, vec![Warning::Armed as i32]);
    assert_eq!(stored.created_by, "JH-6001 (jh-dhanbad)");

    // record show (human)
    let shown = setu(&officer, &["record", "show", &id]).await?.success()?;
    assert!(shown.stdout.contains("Test Kumar Example"), "{shown}");
    assert!(shown.stdout.contains("Imaginary Prasad"), "{shown}");
    assert!(shown.stdout.contains("wanted"), "{shown}");

    // record update, then show --json
    setu(&officer, &["record", "update", &id, "--status", "arrested"])
        .await?
        .success()?;
    let shown = setu_json(&officer, &["record", "show", &id]).await?;
    assert_eq!(text(&shown, "status"), "arrested", "{shown}");
    assert_eq!(shown["version"], 2, "{shown}");
    assert_eq!(
        text(&shown, "name"),
        "Test Kumar Example",
        "the other fields are kept"
    );
    assert_eq!(
        shown["aliases"],
        serde_json::json!(["Kalu Test", "Chhotu Test"])
    );

    // record list (human and JSON)
    let other = setu_json(
        &officer,
        &["record", "add", "--name", "Test Second Example"],
    )
    .await?;
    let listed = setu(&officer, &["record", "list"]).await?.success()?;
    assert!(listed.stdout.contains("Test Kumar Example"), "{listed}");
    assert!(listed.stdout.contains("Test Second Example"), "{listed}");
    let listed = setu_json(&officer, &["record", "list", "--status", "arrested"]).await?;
    let ids: Vec<&str> = listed["records"]
        .as_array()
        .map(|a| a.iter().map(|r| text(r, "id")).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![id.as_str()], "{listed}");
    assert_ne!(text(&other, "id"), id);

    // record photo add / get
    let png = png_bytes([12, 34, 56]);
    let sha = hex::encode(Sha256::digest(&png));
    let photo_path = district.dir().join("suspect.png");
    std::fs::write(&photo_path, &png)?;
    let photo_arg = photo_path.to_string_lossy().into_owned();
    let added = setu(&officer, &["record", "photo", "add", &id, &photo_arg])
        .await?
        .success()?;
    assert!(
        added.stdout.contains(&sha),
        "photo add prints the SHA-256:\n{added}"
    );
    let out_path = district.dir().join("downloaded.png");
    let out_arg = out_path.to_string_lossy().into_owned();
    setu(
        &officer,
        &["record", "photo", "get", &id, &sha, "--out", &out_arg],
    )
    .await?
    .success()?;
    assert_eq!(
        std::fs::read(&out_path)?,
        png,
        "the downloaded photo is identical"
    );
    let shown = setu_json(&officer, &["record", "show", &id]).await?;
    assert_eq!(text(&shown["photos"][0], "sha256"), sha, "{shown}");

    // mo add / list
    let note = setu_json(
        &officer,
        &[
            "mo",
            "add",
            "--category",
            "atm-robbery",
            "--summary",
            "Gas-cutter attacks on kiosks",
            "--record",
            &id,
            "--weapon",
            "gas cutter",
            "--first-seen",
            "2025-01-10",
        ],
    )
    .await?;
    let note_id = text(&note, "id").to_string();
    assert!(uuid::Uuid::parse_str(&note_id).is_ok(), "{note}");
    assert_eq!(note["record_ids"], serde_json::json!([id]));
    let notes = setu(&officer, &["mo", "list"]).await?.success()?;
    assert!(notes.stdout.contains("Gas-cutter attacks"), "{notes}");
    let linked = setu_json(&officer, &["mo", "list", "--record", &id]).await?;
    assert_eq!(linked["notes"][0]["id"], note_id, "{linked}");
    let unlinked = setu_json(&officer, &["mo", "list", "--record", text(&other, "id")]).await?;
    assert_eq!(unlinked["notes"], serde_json::json!([]), "{unlinked}");

    // record delete: refused for an officer, done by an admin
    let refused = setu(
        &officer,
        &["record", "delete", &id, "--reason", "duplicate dossier"],
    )
    .await?;
    assert_failed(&refused, &["not allowed", "admin"]);
    let deleted = setu(
        &admin,
        &["record", "delete", &id, "--reason", "duplicate dossier"],
    )
    .await?
    .success()?;
    assert!(deleted.stdout.contains(&id), "{deleted}");
    let gone = setu(&officer, &["record", "show", &id]).await?;
    assert_failed(&gone, &["expunged"]);
    Ok(())
}

#[tokio::test]
async fn bad_invocations_fail_naming_the_problem() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = officer_config(&district, "JH-6101", Role::Officer)?;

    // A malformed id: the node names the field.
    let finished = setu(&officer, &["record", "show", "not-a-uuid"]).await?;
    assert_failed(&finished, &["id", "not-a-uuid"]);
    assert!(finished.stdout.is_empty(), "{finished}");

    // A bad enum word: clap names the flag and the allowed words.
    let finished = setu(
        &officer,
        &["record", "add", "--name", "Test X", "--status", "fugitive"],
    )
    .await?;
    assert_failed(&finished, &["--status", "arrested"]);

    // A delete without a reason does not reach the node.
    let finished = setu(
        &officer,
        &["record", "delete", &uuid::Uuid::now_v7().to_string()],
    )
    .await?;
    assert_failed(&finished, &["--reason"]);

    // An empty name is refused by the node, naming the field; nothing is stored.
    let finished = setu(&officer, &["record", "add", "--name", " "]).await?;
    assert_failed(&finished, &["name"]);
    let listed = setu_json(&officer, &["record", "list"]).await?;
    assert_eq!(listed["records"], serde_json::json!([]), "{listed}");

    // A config that does not exist is named.
    let missing = district.dir().join("missing.toml");
    let finished = setu(&missing, &["record", "list"]).await?;
    assert_failed(&finished, &["missing.toml"]);
    Ok(())
}

/// A node with a valid officer's config (proved to work) and an impostor's config: same
/// district, badge and role, but a certificate from a CA the node does not trust.
async fn impostor_setup() -> anyhow::Result<(District, PathBuf, tempfile::TempDir)> {
    let district = District::start(DHANBAD).await?;
    let officer = officer_config(&district, "JH-6201", Role::Officer)?;
    setu(&officer, &["record", "list"]).await?.success()?;

    let rogue_dir = tempfile::tempdir()?;
    let rogue = TestCa::create(rogue_dir.path(), "Test Rogue CA")?;
    let impostor = rogue.officer(DHANBAD, "JH-6201", Role::Admin)?;
    let config = district.dir().join("impostor.toml");
    write_client_config(
        &config,
        &district.node.url(),
        &district.ca.cert_path(),
        &impostor,
    )?;
    Ok((district, config, rogue_dir))
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_is_refused() -> anyhow::Result<()> {
    let (district, config, _rogue) = impostor_setup().await?;
    let finished = setu(&config, &["record", "list"]).await?;
    assert_failed(&finished, &["error:"]);
    assert!(finished.stdout.is_empty(), "{finished}");
    let finished = setu(&config, &["record", "add", "--name", "Test Impostor Entry"]).await?;
    assert_failed(&finished, &["error:"]);
    assert_eq!(
        district.node.storage().record_count(),
        0,
        "nothing was stored"
    );
    Ok(())
}

/// The refusal must be explained every time, not only when the TLS alert happens to win
/// the race against the connection being torn down.
#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_gets_a_clear_message() -> anyhow::Result<()> {
    let (_district, config, _rogue) = impostor_setup().await?;
    for _ in 0..10 {
        let finished = setu(&config, &["record", "list"]).await?;
        assert_failed(
            &finished,
            &["the node refused this certificate: unknown CA"],
        );
        assert!(finished.stdout.is_empty(), "{finished}");
    }
    Ok(())
}

#[tokio::test]
async fn a_key_that_others_can_read_is_refused_with_the_chmod_hint() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let district = District::start(DHANBAD).await?;
    let cert = district.ca.officer(DHANBAD, "JH-6301", Role::Officer)?;
    let config = district.dir().join("JH-6301.toml");
    write_client_config(
        &config,
        &district.node.url(),
        &district.ca.cert_path(),
        &cert,
    )?;
    // Issued keys are written 0600, and the client uses them.
    let mode = std::fs::metadata(&cert.key)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", cert.key.display());
    setu(&config, &["record", "list"]).await?.success()?;

    std::fs::set_permissions(&cert.key, std::fs::Permissions::from_mode(0o644))?;
    let finished = setu(&config, &["record", "list"]).await?;
    let key = cert.key.display().to_string();
    assert_failed(
        &finished,
        &[
            &format!("private key {key} is readable by group or others (mode 0644)"),
            &format!("run chmod 600 {key}"),
        ],
    );
    assert_eq!(finished.status.code(), Some(1), "{finished}");
    assert!(finished.stdout.is_empty(), "{finished}");

    std::fs::set_permissions(&cert.key, std::fs::Permissions::from_mode(0o600))?;
    setu(&config, &["record", "list"]).await?.success()?;
    Ok(())
}

/// `setu whoami` names the officer from the certificate and says the node accepts it; the
/// JSON variant carries the same facts.
#[tokio::test]
async fn whoami_names_the_officer_and_the_node_accepts_the_certificate() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = officer_config(&district, "JH-6501", Role::Liaison)?;
    let finished = setu(&officer, &["whoami"]).await?.success()?;
    for needle in [
        "Badge     JH-6501",
        "Role      liaison",
        "District  jh-dhanbad",
        "Serial    ",
        " days left)",
        "accepts this certificate",
    ] {
        assert!(
            finished.stdout.contains(needle),
            "{needle:?} in\n{finished}"
        );
    }
    let json = setu_json(&officer, &["whoami"]).await?;
    assert_eq!(text(&json, "badge"), "JH-6501", "{json}");
    assert_eq!(text(&json, "district"), DHANBAD, "{json}");
    assert!(!text(&json, "serial").is_empty(), "{json}");
    assert!(json["days_left"].as_i64() >= Some(1), "{json}");
    assert_eq!(json["node"]["accepted"], true, "{json}");
    assert_eq!(text(&json["node"], "district"), DHANBAD, "{json}");
    Ok(())
}

/// A certificate the node does not vouch for: one from a CA it trusts only for another
/// state's districts, naming an officer of this district. `whoami` still shows what the
/// certificate says, then the node's refusal in an officer's words, and exits non-zero; so
/// does a certificate from a CA the node does not know at all.
#[tokio::test]
async fn whoami_reports_a_refused_certificate_and_fails() -> anyhow::Result<()> {
    let other_dir = tempfile::tempdir()?;
    let west_bengal = TestCa::create(other_dir.path(), "Test West Bengal Police")?;
    let district = District::start_trusting(
        DHANBAD,
        &[setu_tests::node::state_trust(
            &west_bengal.cert_path(),
            "wb-asansol-durgapur",
        )],
    )
    .await?;
    let officer = officer_config(&district, "JH-6502", Role::Officer)?;
    setu(&officer, &["whoami"]).await?.success()?;

    let unvouched = west_bengal.officer(DHANBAD, "JH-6503", Role::Officer)?;
    let config = district.dir().join("unvouched.toml");
    write_client_config(
        &config,
        &district.node.url(),
        &district.ca.cert_path(),
        &unvouched,
    )?;
    let finished = setu(&config, &["whoami"]).await?;
    assert_failed(
        &finished,
        &["error: the node did not accept this certificate"],
    );
    assert!(finished.stdout.contains("Badge     JH-6503"), "{finished}");
    assert!(
        finished
            .stdout
            .contains("does not accept it: the node did not accept"),
        "{finished}"
    );
    assert!(!finished.stderr.contains("unauthenticated:"), "{finished}");
    let finished = setu(&config, &["whoami", "--json"]).await?;
    assert!(!finished.status.success(), "{finished}");
    let json: serde_json::Value = serde_json::from_str(&finished.stdout)?;
    assert_eq!(json["node"]["accepted"], false, "{json}");
    assert!(
        text(&json["node"], "error").contains("did not accept this certificate"),
        "{json}"
    );
    let error: serde_json::Value = serde_json::from_str(finished.stderr.trim())?;
    assert_eq!(text(&error, "code"), "UNAUTHENTICATED", "{error}");

    let (_impostor_district, impostor, _rogue) = impostor_setup().await?;
    let finished = setu(&impostor, &["whoami"]).await?;
    assert_failed(
        &finished,
        &["the node refused this certificate: unknown CA"],
    );
    assert!(finished.stdout.contains("Badge     JH-6201"), "{finished}");
    Ok(())
}
