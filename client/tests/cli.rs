//! Drives the `setu` commands against an in-memory fake node behind real mutual TLS, and
//! checks that TLS failures come out as the plain sentences officers are promised.

mod common;

use std::path::{Path, PathBuf};

use clap::Parser;
use common::{fake, pki::Ca, write_config};
use serde_json::Value;
use setu_client::{execute, Cli, ClientError};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Installs the one crypto provider compiled in; repeated calls are harmless.
fn provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A fake node with a client config that it accepts.
struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    ca: Ca,
    address: String,
}

async fn setup() -> Res<Setup> {
    provider();
    let ca = Ca::new("Setu Test CA")?;
    let node = ca.leaf(&["127.0.0.1"], false)?;
    let officer = ca.leaf(&["officer.jh-dhanbad.example"], false)?;
    let address = fake::start(&node, &ca.pem.cert).await?;
    let dir = tempfile::tempdir()?;
    let config = write_config(
        dir.path(),
        &address,
        &ca.pem.cert,
        &officer.cert,
        &officer.key,
        None,
    )?;
    Ok(Setup {
        _dir: dir,
        config,
        ca,
        address,
    })
}

/// Runs `setu --config CONFIG ARGS...` in-process; usage and command errors become strings.
async fn setu(config: &Path, args: &[&str]) -> Result<String, String> {
    let mut argv = vec![
        "setu".to_string(),
        "--config".to_string(),
        config.display().to_string(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    execute(&cli).await.map_err(|e: ClientError| e.to_string())
}

async fn setu_json(config: &Path, args: &[&str]) -> Res<Value> {
    let mut args = args.to_vec();
    args.push("--json");
    let text = setu(config, &args).await?;
    Ok(serde_json::from_str(&text)?)
}

#[tokio::test]
async fn record_lifecycle() -> Res {
    let s = setup().await?;
    let created = setu_json(
        &s.config,
        &[
            "record",
            "add",
            "--name",
            "Raju Mahto",
            "--father-name",
            "Shankar Mahto",
            "--status",
            "wanted",
            "--warning",
            "armed",
            "--handling",
            "federation",
            "--address",
            "Ward 4, Jharia, Dhanbad, Jharkhand",
            "--case",
            "112/2025@Jharia:BNS 309(4):accused",
            "--reward",
            "25000",
        ],
    )
    .await?;
    let id = created["id"].as_str().ok_or("no id")?.to_string();
    assert_eq!(created["status"], "wanted");
    assert_eq!(created["cases"][0]["role"], "accused");
    assert_eq!(created["addresses"][0]["district"], "Dhanbad");

    let card = setu(&s.config, &["record", "show", &id]).await?;
    assert!(card.contains("Raju Mahto"), "{card}");
    assert!(
        card.contains("FIR 112/2025 @ Jharia: BNS 309(4) (accused)"),
        "{card}"
    );
    assert!(
        card.contains("2025-10-09 08:53 UTC by JH-1234 (jh-dhanbad)"),
        "{card}"
    );

    let updated = setu(
        &s.config,
        &["record", "update", &id, "--status", "arrested"],
    )
    .await?;
    assert_eq!(updated, format!("updated record {id} (version 2)\n"));
    let stale = setu(
        &s.config,
        &[
            "record",
            "update",
            &id,
            "--reward",
            "0",
            "--expected-version",
            "1",
        ],
    )
    .await;
    assert!(
        matches!(&stale, Err(e) if e.starts_with("record ")),
        "{stale:?}"
    );
    let nothing = setu(&s.config, &["record", "update", &id]).await;
    assert!(
        matches!(&nothing, Err(e) if e.contains("nothing to update")),
        "{nothing:?}"
    );

    let shown = setu_json(&s.config, &["record", "show", &id]).await?;
    assert_eq!(shown["status"], "arrested");
    assert_eq!(shown["warnings"][0], "armed");

    let table = setu(&s.config, &["record", "list", "--status", "arrested"]).await?;
    assert!(table.starts_with("ID "), "{table}");
    assert!(table.contains(&id), "{table}");
    let none = setu(&s.config, &["record", "list", "--status", "convicted"]).await?;
    assert_eq!(none, "no records\n");

    let missing = setu(&s.config, &["record", "show", "no-such-id"]).await;
    assert_eq!(missing, Err("record no-such-id does not exist".to_string()));

    let deleted = setu_json(
        &s.config,
        &["record", "delete", &id, "--reason", "duplicate entry"],
    )
    .await?;
    assert_eq!(deleted["reason"], "duplicate entry");
    Ok(())
}

#[tokio::test]
async fn record_from_file_with_flag_overrides() -> Res {
    let s = setup().await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("rec.json");
    std::fs::write(
        &file,
        r#"{"name": "Sunil Yadav", "aliases": ["Chhotu"], "status": "absconding", "gender": "male"}"#,
    )?;
    let path = file.display().to_string();
    let created = setu_json(
        &s.config,
        &["record", "add", "--file", &path, "--status", "wanted"],
    )
    .await?;
    assert_eq!(created["name"], "Sunil Yadav");
    assert_eq!(created["aliases"][0], "Chhotu");
    assert_eq!(created["status"], "wanted");
    let id = created["id"].as_str().ok_or("no id")?.to_string();

    // A file saved from `show --json` carries its id and version into an update.
    let mut saved = setu_json(&s.config, &["record", "show", &id]).await?;
    saved["father_name"] = Value::from("Ramesh Yadav");
    std::fs::write(&file, serde_json::to_string(&saved)?)?;
    let updated = setu_json(&s.config, &["record", "update", &id, "--file", &path]).await?;
    assert_eq!(updated["father_name"], "Ramesh Yadav");
    assert_eq!(updated["version"], 2);
    let other = setu(
        &s.config,
        &["record", "update", "another-id", "--file", &path],
    )
    .await;
    assert!(
        matches!(&other, Err(e) if e.contains("the file is for record")),
        "{other:?}"
    );

    std::fs::write(&file, r#"{"nmae": "Sunil"}"#)?;
    let typo = setu(&s.config, &["record", "add", "--file", &path]).await;
    assert!(
        matches!(&typo, Err(e) if e.contains("rec.json") && e.contains("nmae")),
        "{typo:?}"
    );
    Ok(())
}

#[tokio::test]
async fn photos_round_trip_and_are_verified() -> Res {
    let s = setup().await?;
    let created = setu_json(&s.config, &["record", "add", "--name", "Raju Mahto"]).await?;
    let id = created["id"].as_str().ok_or("no id")?.to_string();
    let dir = tempfile::tempdir()?;
    let photo: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
    let file = dir.path().join("raju.jpg");
    std::fs::write(&file, &photo)?;
    let sha = setu(
        &s.config,
        &["record", "photo", "add", &id, &file.display().to_string()],
    )
    .await?;
    let sha = sha.trim().to_string();
    assert_eq!(sha.len(), 64);

    let out = dir.path().join("copy.jpg");
    let saved = setu(
        &s.config,
        &[
            "record",
            "photo",
            "get",
            &id,
            &sha,
            "--out",
            &out.display().to_string(),
        ],
    )
    .await?;
    assert!(saved.contains("600000 bytes"), "{saved}");
    assert_eq!(std::fs::read(&out)?, photo);

    let unlisted = "0".repeat(64);
    let refused = setu(
        &s.config,
        &["record", "photo", "get", &id, &unlisted, "--out", "x.jpg"],
    )
    .await;
    assert!(
        matches!(&refused, Err(e) if e.contains("has no photo with sha256")),
        "{refused:?}"
    );

    let card = setu(&s.config, &["record", "show", &id]).await?;
    assert!(
        card.contains(&format!("{sha}  image/jpeg  600000 bytes")),
        "{card}"
    );

    // Saved photos are for the officer alone; an existing file is never silently replaced.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let out_arg = out.display().to_string();
    let prefix = &sha[..8];
    let kept = setu(
        &s.config,
        &["record", "photo", "get", &id, prefix, "--out", &out_arg],
    )
    .await;
    assert!(
        matches!(&kept, Err(e) if e.contains("already exists") && e.contains("--force")),
        "{kept:?}"
    );
    // A unique prefix of the digest is enough.
    let forced = setu(
        &s.config,
        &[
            "record", "photo", "get", &id, prefix, "--out", &out_arg, "--force",
        ],
    )
    .await?;
    assert!(forced.contains("600000 bytes"), "{forced}");
    assert_eq!(std::fs::read(&out)?, photo);
    let other = dir.path().join("other.jpg");
    let unknown = setu(
        &s.config,
        &[
            "record",
            "photo",
            "get",
            &id,
            if sha.starts_with('0') { "f" } else { "0" },
            "--out",
            &other.display().to_string(),
        ],
    )
    .await;
    assert!(
        matches!(&unknown, Err(e) if e.contains("has no photo with sha256")),
        "{unknown:?}"
    );
    Ok(())
}

/// `record show` lists the person's MO notes; `mo show` lists its records by name.
#[tokio::test]
async fn cards_name_what_they_link_to() -> Res {
    let s = setup().await?;
    let person = setu_json(
        &s.config,
        &[
            "record",
            "add",
            "--name",
            "Raju Mahto",
            "--status",
            "wanted",
            "--warning",
            "armed",
        ],
    )
    .await?;
    let record_id = person["id"].as_str().ok_or("no id")?.to_string();
    let note = setu_json(
        &s.config,
        &[
            "mo",
            "add",
            "--category",
            "atm-robbery",
            "--summary",
            "Gas-cutter used on highway kiosks",
            "--record",
            &record_id,
            "--record",
            "not-held-here",
        ],
    )
    .await?;
    let note_id = note["id"].as_str().ok_or("no id")?.to_string();
    let card = setu(&s.config, &["record", "show", &record_id]).await?;
    assert!(
        card.contains(&format!(
            "MO notes   atm-robbery: Gas-cutter used on highway kiosks ({note_id})"
        )),
        "{card}"
    );
    let card = setu(&s.config, &["mo", "show", &note_id]).await?;
    assert!(
        card.contains(&format!("Raju Mahto (wanted; armed) {record_id}")),
        "{card}"
    );
    assert!(card.contains("not-held… (not available here)"), "{card}");
    Ok(())
}

/// `M`/`F` are genders, and list flags given as "" clear their list.
#[tokio::test]
async fn gender_letters_and_clearing_lists() -> Res {
    let s = setup().await?;
    let created = setu_json(
        &s.config,
        &[
            "record",
            "add",
            "--name",
            "Raju Mahto",
            "--gender",
            "M",
            "--warning",
            "armed",
            "--alias",
            "Kalua",
            "--phone",
            "+91 90000 11111",
        ],
    )
    .await?;
    assert_eq!(created["gender"], "male");
    let id = created["id"].as_str().ok_or("no id")?.to_string();
    let updated = setu_json(
        &s.config,
        &[
            "record",
            "update",
            &id,
            "--warning",
            "",
            "--alias",
            "",
            "--phone",
            "",
            "--gender",
            "f",
        ],
    )
    .await?;
    assert_eq!(updated["gender"], "female");
    for list in ["warnings", "aliases", "phones"] {
        assert!(
            updated[list].as_array().is_none_or(Vec::is_empty),
            "{list}: {updated}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn mo_lifecycle() -> Res {
    let s = setup().await?;
    let created = setu_json(
        &s.config,
        &[
            "mo",
            "add",
            "--category",
            "atm-robbery",
            "--summary",
            "Gas-cutter used on highway kiosks",
            "--record",
            "rec-1",
            "--weapon",
            "country-made pistol",
            "--mo-vehicle",
            "white pickup",
            "--time-of-day",
            "late night, 01:00-04:00",
            "--first-seen",
            "2025-01-10",
        ],
    )
    .await?;
    let id = created["id"].as_str().ok_or("no id")?.to_string();
    assert_eq!(created["method"]["vehicles"][0], "white pickup");
    let card = setu(&s.config, &["mo", "show", &id]).await?;
    assert!(card.contains("atm-robbery"), "{card}");
    let updated = setu(
        &s.config,
        &["mo", "update", &id, "--last-seen", "2025-06-02"],
    )
    .await?;
    assert!(updated.starts_with("updated MO note"), "{updated}");
    let page = setu_json(
        &s.config,
        &[
            "mo",
            "list",
            "--record",
            "rec-1",
            "--category",
            "atm-robbery",
        ],
    )
    .await?;
    assert_eq!(page["notes"][0]["last_seen"], "2025-06-02");
    let deleted = setu(
        &s.config,
        &["mo", "delete", &id, "--reason", "merged into another note"],
    )
    .await?;
    assert_eq!(deleted, format!("deleted MO note {id}\n"));
    Ok(())
}

#[tokio::test]
async fn peers_report_and_json() -> Res {
    let s = setup().await?;
    let text = setu(&s.config, &["peers"]).await?;
    assert!(
        text.starts_with("district jh-dhanbad: 2 peers\n\n"),
        "{text}"
    );
    assert!(text.contains("Peer          br-gaya\n"), "{text}");
    assert!(text.contains("Connected     yes\n"), "{text}");
    assert!(
        text.contains("Last contact  2025-10-09 08:53:20 UTC\n"),
        "{text}"
    );
    assert!(text.contains("Lag out       3 changes\n"), "{text}");
    assert!(
        text.contains(
            "Anti-entropy  2025-10-09 08:52:20 UTC\n              in sync (2 origins compared)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("Watermarks    br-gaya → 1042 (epoch 0xdeadbeef00000001)\n"),
        "{text}"
    );
    assert!(text.contains("Last contact  never\n"), "{text}");
    assert!(text.contains("Anti-entropy  not yet\n"), "{text}");
    assert!(text.contains("connection refused\\u{1b}[31m\n"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");

    let json = setu_json(&s.config, &["peers"]).await?;
    assert_eq!(json["district"], "jh-dhanbad");
    assert_eq!(json["peers"][0]["connected"], true);
    assert_eq!(json["peers"][0]["last_contact_ms"], 1_760_000_000_000_i64);
    assert_eq!(json["peers"][0]["watermarks"][0]["seq"], 1042);
    assert_eq!(
        json["peers"][0]["watermarks"][0]["epoch"],
        0xdead_beef_0000_0001_u64
    );
    assert_eq!(json["peers"][1]["last_contact_ms"], 0);
    assert_eq!(
        json["peers"][1]["last_error"],
        "connection refused\u{1b}[31m"
    );
    Ok(())
}

/// Runs `record list` with a config made from the given PEMs and returns the error text.
async fn failure(
    address: &str,
    ca: &str,
    cert: &str,
    key: &str,
    name: Option<&str>,
) -> Res<String> {
    let dir = tempfile::tempdir()?;
    let config = write_config(dir.path(), address, ca, cert, key, name)?;
    match setu(&config, &["record", "list"]).await {
        Ok(out) => Err(format!("expected a failure, got {out}").into()),
        Err(e) => Ok(e),
    }
}

#[tokio::test]
async fn tls_failures_are_explained() -> Res {
    let s = setup().await?;
    // A successful call first, so a rejection below cannot come from a dead server.
    setu(&s.config, &["record", "list"]).await?;

    let stranger = Ca::new("Unknown CA")?;
    let outsider = stranger.leaf(&["officer.br-gaya.example"], false)?;
    let e = failure(
        &s.address,
        &s.ca.pem.cert,
        &outsider.cert,
        &outsider.key,
        None,
    )
    .await?;
    assert_eq!(e, "the node refused this certificate: unknown CA");

    let expired = s.ca.leaf(&["officer.jh-dhanbad.example"], true)?;
    let e = failure(
        &s.address,
        &s.ca.pem.cert,
        &expired.cert,
        &expired.key,
        None,
    )
    .await?;
    assert_eq!(e, "the node refused this certificate: certificate expired");

    let officer = s.ca.leaf(&["officer.jh-dhanbad.example"], false)?;
    let e = failure(
        &s.address,
        &stranger.pem.cert,
        &officer.cert,
        &officer.key,
        None,
    )
    .await?;
    assert!(
        e.starts_with("the node's certificate is not trusted: unknown issuer"),
        "{e}"
    );

    let e = failure(
        &s.address,
        &s.ca.pem.cert,
        &officer.cert,
        &officer.key,
        Some("node.br-gaya.example"),
    )
    .await?;
    assert!(
        e.starts_with("the node's certificate is not trusted: certificate not valid for name"),
        "{e}"
    );

    let bundle = format!("{}{}", stranger.pem.cert, s.ca.pem.cert);
    let dir = tempfile::tempdir()?;
    let config = write_config(
        dir.path(),
        &s.address,
        &bundle,
        &officer.cert,
        &officer.key,
        None,
    )?;
    setu(&config, &["record", "list"]).await?;

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.local_addr()?
    };
    let address = format!("https://{closed}");
    let e = failure(&address, &s.ca.pem.cert, &officer.cert, &officer.key, None).await?;
    assert_eq!(
        e,
        format!("could not reach the node at {address}: connection refused")
    );

    let e = failure(
        &s.address,
        &s.ca.pem.cert,
        &officer.cert,
        &outsider.key,
        None,
    )
    .await?;
    assert!(
        e.ends_with("the private key does not match the certificate in `cert`"),
        "{e}"
    );

    let e = failure(&s.address, "not a pem", &officer.cert, &officer.key, None).await?;
    assert!(e.starts_with("config key `ca`"), "{e}");
    Ok(())
}

#[tokio::test]
async fn missing_client_certificate_is_explained() -> Res {
    use setu_proto::v1::record_service_client::RecordServiceClient;
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

    let s = setup().await?;
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&s.ca.pem.cert))
        .domain_name("127.0.0.1");
    let channel = Endpoint::from_shared(s.address.clone())?
        .tls_config(tls)?
        .connect()
        .await?;
    let status = match RecordServiceClient::new(channel)
        .get(setu_proto::v1::GetRecordRequest { id: "x".into() })
        .await
    {
        Ok(_) => return Err("a call without a certificate succeeded".into()),
        Err(status) => status,
    };
    assert_eq!(
        setu_client::explain_status(&status),
        "the node refused this certificate: certificate required"
    );
    Ok(())
}

#[tokio::test]
async fn the_binary_keeps_results_and_errors_apart() -> Res {
    let s = setup().await?;
    let bin = env!("CARGO_BIN_EXE_setu");
    let config = s.config.display().to_string();

    let ok = tokio::process::Command::new(bin)
        .args(["--config", &config, "record", "add", "--name", "Raju Mahto"])
        .output()
        .await?;
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8(ok.stdout)?.starts_with("created record "));
    assert!(ok.stderr.is_empty());

    let usage = tokio::process::Command::new(bin)
        .args(["--config", &config, "record", "add", "--status", "fugitive"])
        .output()
        .await?;
    assert_eq!(usage.status.code(), Some(2));
    assert!(usage.stdout.is_empty());
    assert!(String::from_utf8(usage.stderr)?.contains("--status"));

    let missing = tokio::process::Command::new(bin)
        .env("SETU_CONFIG", &config)
        .args(["record", "show", "no-such-id"])
        .output()
        .await?;
    assert_eq!(missing.status.code(), Some(1));
    assert!(missing.stdout.is_empty());
    assert_eq!(
        String::from_utf8(missing.stderr)?,
        "error: record no-such-id does not exist\n"
    );
    Ok(())
}

/// The node's refusals read as sentences without gRPC codes or field names; `--json` keeps
/// the code on standard error.
#[tokio::test]
async fn refusals_read_as_sentences_and_json_keeps_the_code() -> Res {
    let s = setup().await?;
    let limit = setu(&s.config, &["record", "list", "--limit", "1000"]).await;
    assert_eq!(
        limit,
        Err(
            "1000 at a time is more than the node gives at once; the limit is 500 \
             (use --limit 500 or less)"
                .to_string()
        )
    );
    let other = setu(
        &s.config,
        &[
            "mo",
            "add",
            "--category",
            "other",
            "--summary",
            "Gas-cutter on kiosks",
        ],
    )
    .await;
    assert_eq!(
        other,
        Err(
            "the category in words (--category-other) is required when the category is other"
                .to_string()
        )
    );

    let bin = env!("CARGO_BIN_EXE_setu");
    let config = s.config.display().to_string();
    let refused = tokio::process::Command::new(bin)
        .args([
            "--config", &config, "--json", "record", "list", "--limit", "1000",
        ])
        .output()
        .await?;
    assert_eq!(refused.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&refused.stderr)?;
    assert_eq!(error["code"], "INVALID_ARGUMENT");
    assert_eq!(
        error["message"],
        "page_size: 1000 is above the limit of 500"
    );
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("1000 at a time")),
        "{error}"
    );
    Ok(())
}

/// A district the node does not know is refused with the ones it knows, not taken for
/// "nothing matched".
#[tokio::test]
async fn unknown_districts_are_refused_with_the_known_ones() -> Res {
    let s = setup().await?;
    let known = setu(&s.config, &["record", "list", "--origin", "jh-dhanbad"]).await?;
    assert_eq!(known, "no records\n");
    let refused = setu(&s.config, &["record", "list", "--origin", "jh-dhanbd"]).await;
    assert_eq!(
        refused,
        Err(
            "--origin jh-dhanbd: this node knows no such district; the districts it knows \
             are br-gaya, jh-dhanbad, wb-purulia"
                .to_string()
        )
    );
    Ok(())
}

/// `record list` fits the terminal's width (COLUMNS here) and shows the warnings.
#[tokio::test]
async fn record_list_fits_the_width_and_shows_warnings() -> Res {
    let s = setup().await?;
    setu(
        &s.config,
        &[
            "record",
            "add",
            "--name",
            "Imaginary Kumar Prasad Mahato Senior Of Test Nagar",
            "--father-name",
            "Fictional Lal Prasad Mahato Of Test Nagar",
            "--status",
            "wanted",
            "--warning",
            "armed",
            "--warning",
            "escape-risk",
        ],
    )
    .await?;
    let bin = env!("CARGO_BIN_EXE_setu");
    let config = s.config.display().to_string();
    let listed = tokio::process::Command::new(bin)
        .env("COLUMNS", "100")
        .args(["--config", &config, "record", "list"])
        .output()
        .await?;
    let text = String::from_utf8(listed.stdout)?;
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    assert!(text.starts_with("ID "), "{text}");
    assert!(text.contains("WARNINGS"), "{text}");
    assert!(text.contains("armed"), "{text}");
    assert!(text.contains('…'), "{text}");
    Ok(())
}

/// Times print in the officer's zone with the zone shown, and spans in one style.
#[tokio::test]
async fn times_are_local_with_the_zone_shown() -> Res {
    let s = setup().await?;
    let bin = env!("CARGO_BIN_EXE_setu");
    let config = s.config.display().to_string();
    let run = |zone: &'static str, args: &'static [&'static str]| {
        let mut command = tokio::process::Command::new(bin);
        command
            .env("TZ", zone)
            .arg("--config")
            .arg(&config)
            .args(args);
        command
    };
    let peers = run("Asia/Kolkata", &["peers"]).output().await?;
    let text = String::from_utf8(peers.stdout)?;
    assert!(
        text.contains("Last contact  2025-10-09 14:23:20 IST\n"),
        "{text}"
    );
    let added = run("Asia/Kolkata", &["record", "add", "--name", "Raju Mahto"])
        .output()
        .await?;
    let added = String::from_utf8(added.stdout)?;
    let id = added
        .split_whitespace()
        .nth(2)
        .ok_or("no id printed")?
        .to_string();
    let shown = tokio::process::Command::new(bin)
        .env("TZ", "Asia/Kolkata")
        .args(["--config", &config, "record", "show", &id])
        .output()
        .await?;
    let card = String::from_utf8(shown.stdout)?;
    assert!(card.contains("2025-10-09 14:23 IST by JH-1234"), "{card}");
    let utc = tokio::process::Command::new(bin)
        .env("TZ", "UTC")
        .args(["--config", &config, "record", "show", &id])
        .output()
        .await?;
    let card = String::from_utf8(utc.stdout)?;
    assert!(card.contains("2025-10-09 08:53 UTC by JH-1234"), "{card}");
    Ok(())
}

/// A call cut off by the connection is diagnosed by a probe: the refusal when the node
/// refuses the certificate (its alert was lost with the call), otherwise the cut-off itself
/// with the node's real address. Other errors never reach the network.
#[tokio::test]
async fn cut_off_calls_are_probed_for_a_refusal() -> Res {
    use setu_client::{probe, ClientConfig};

    let s = setup().await?;
    setu(&s.config, &["record", "list"]).await?;
    let cut_off = || ClientError::CallCutOff {
        code: "unknown".into(),
        message: "transport error".into(),
        network: Some("connection closed".into()),
    };

    // Accepted: nothing to blame on TLS, and the node's HTTP/2 settings end the probe early.
    let config = ClientConfig::load(&s.config)?;
    let started = std::time::Instant::now();
    let e = probe::diagnose(&config, cut_off()).await;
    assert_eq!(
        e.to_string(),
        format!(
            "could not reach the node at {}: connection closed",
            s.address
        )
    );
    assert!(started.elapsed() < probe::PROBE_READ_TIMEOUT);
    let cancelled = ClientError::CallCutOff {
        code: "cancelled".into(),
        message: "operation was canceled".into(),
        network: None,
    };
    assert_eq!(
        probe::diagnose(&config, cancelled).await.to_string(),
        "the call was cancelled: operation was canceled"
    );

    // Refused: the probe receives the alert the call lost.
    let stranger = Ca::new("Unknown CA")?;
    let outsider = stranger.leaf(&["officer.br-gaya.example"], false)?;
    let dir = tempfile::tempdir()?;
    let path = write_config(
        dir.path(),
        &s.address,
        &s.ca.pem.cert,
        &outsider.cert,
        &outsider.key,
        None,
    )?;
    let outsider_config = ClientConfig::load(&path)?;
    assert_eq!(
        probe::diagnose(&outsider_config, cut_off())
            .await
            .to_string(),
        "the node refused this certificate: unknown CA"
    );

    // An answer from the node is reported as it is, without a probe.
    let denied = ClientError::Rpc {
        code: "permission denied".into(),
        message: "admins only".into(),
    };
    assert_eq!(
        probe::diagnose(&outsider_config, denied).await.to_string(),
        "not allowed: admins only"
    );
    Ok(())
}

#[tokio::test]
async fn a_key_that_group_or_others_can_read_is_refused_with_the_chmod_hint() -> Res {
    use std::os::unix::fs::PermissionsExt;
    let s = setup().await?;
    let key = s
        .config
        .parent()
        .ok_or("no config folder")?
        .join("officer.key");
    // The helper writes the key 0600, and that works.
    assert_eq!(std::fs::metadata(&key)?.permissions().mode() & 0o777, 0o600);
    setu(&s.config, &["record", "list"]).await?;

    let cases = [
        (0o644, "readable", "0644"),
        (0o640, "readable", "0640"),
        (0o604, "readable", "0604"),
        (0o620, "accessible", "0620"),
    ];
    for (mode, open, shown) in cases {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode))?;
        let argv = [
            "setu".to_string(),
            "--config".to_string(),
            s.config.display().to_string(),
            "record".to_string(),
            "list".to_string(),
        ];
        let error = execute(&Cli::try_parse_from(argv)?)
            .await
            .expect_err("a key others can reach must be refused");
        assert!(matches!(error, ClientError::KeyTooOpen { .. }), "{error:?}");
        assert_ne!(error.exit_code(), 0);
        assert_eq!(
            error.to_string(),
            format!(
                "private key {} is {open} by group or others (mode {shown}); run chmod 600 {}",
                key.display(),
                key.display()
            )
        );
    }

    // Back to 0600, the same config works again.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
    setu(&s.config, &["record", "list"]).await?;
    Ok(())
}
