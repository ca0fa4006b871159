//! `setu alert` through the real binary against two real, peered district nodes: a liaison
//! of one district posts an alert, the other district's officers see it live with `alert
//! watch`, a liaison there acknowledges it, the origin sees the acknowledgement with its
//! note, and a cancellation reaches the receiver. A watch rides out its node going away and
//! resumes where it stopped; Ctrl-C ends it cleanly. Refusals (an officer without the
//! liaison role, an expiry beyond the node's limit, a duration the CLI cannot read, a watch
//! after an unknown event or of an unreachable node) end with a non-zero exit that names the
//! problem. Every person and place is fictional.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use setu_tests::bins::{binary, setu, setu_json, text, write_client_config, Finished, CLIENT_BIN};
use setu_tests::mesh::{free_port, Mesh, SYNC_TIMEOUT};
use setu_tests::wait::{wait_for, wait_until};
use setu_tests::Role;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";

/// How long an event may take to reach a running watch (the alert may first have to travel
/// from the other node).
const WATCH_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a watch may take to come back after its node returns: its reconnection waits
/// double up to 30 s, and a debug build on a loaded machine is slow.
const RECONNECT_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a watch may take to exit after Ctrl-C, and a node to stop.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Two peered districts of different states.
async fn two_states() -> anyhow::Result<Mesh> {
    Mesh::two_states(DHANBAD, ASANSOL)?.start().await
}

/// Writes a client config for a new officer of `district` in `mesh` and returns its path.
fn config(mesh: &Mesh, district: &str, badge: &str, role: Role) -> anyhow::Result<PathBuf> {
    let ca = mesh.ca_of(district);
    let cert = ca.officer(district, badge, role)?;
    let path = mesh.dir().join(format!("{badge}.toml"));
    write_client_config(&path, &mesh.node(district).url(), &ca.cert_path(), &cert)?;
    Ok(path)
}

fn assert_failed(finished: &Finished, needles: &[&str]) {
    assert!(
        !finished.status.success(),
        "the command should fail:\n{finished}"
    );
    let stderr = finished.stderr.to_lowercase();
    for needle in needles {
        assert!(
            stderr.contains(&needle.to_lowercase()),
            "stderr should mention {needle:?}:\n{finished}"
        );
    }
    assert!(
        finished.stdout.is_empty(),
        "nothing goes to stdout:\n{finished}"
    );
}

/// Posts an alert through the CLI and returns the id it printed (its only line).
async fn post(config: &Path, title: &str, extra: &[&str]) -> anyhow::Result<String> {
    let mut args = vec![
        "alert",
        "post",
        "--priority",
        "flash",
        "--category",
        "robbery",
        "--title",
        title,
        "--body",
        "Four men on two motorcycles took a cash box; headed towards the state border.",
        "--expires-in",
        "2h",
    ];
    args.extend_from_slice(extra);
    let posted = setu(config, &args).await?.success()?;
    let lines: Vec<&str> = posted.stdout.lines().collect();
    anyhow::ensure!(
        lines.len() == 1 && !lines[0].trim().is_empty() && !lines[0].contains(' '),
        "`alert post` should print only the id:\n{posted}"
    );
    Ok(lines[0].to_string())
}

/// `alert show ID --json` through `config`.
async fn show(config: &Path, id: &str) -> anyhow::Result<Value> {
    setu_json(config, &["alert", "show", id]).await
}

/// The target entry of `district` in an `alert show --json` view.
fn target<'a>(view: &'a Value, district: &str) -> Option<&'a Value> {
    view["targets"]
        .as_array()?
        .iter()
        .find(|t| text(t, "district") == district)
}

/// A running `setu alert watch` child process whose output the test reads line by line.
struct Watcher {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    /// Everything it has written to standard error so far, filled by a reader task.
    stderr: Arc<Mutex<String>>,
}

impl Watcher {
    /// Starts `setu --config CONFIG alert watch ARGS...` with its output piped.
    fn start(config: &Path, args: &[&str]) -> anyhow::Result<Watcher> {
        let mut command = Command::new(binary(CLIENT_BIN)?);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("SETU_") {
                command.env_remove(key);
            }
        }
        command
            .arg("--config")
            .arg(config)
            .args(["alert", "watch"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().context("spawning setu alert watch")?;
        let stdout = child.stdout.take().context("the watch's stdout is piped")?;
        let mut stderr = child.stderr.take().context("the watch's stderr is piped")?;
        let collected = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&collected);
        tokio::spawn(async move {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buffer).await {
                if n == 0 {
                    break;
                }
                if let Ok(mut text) = sink.lock() {
                    text.push_str(&String::from_utf8_lossy(&buffer[..n]));
                }
            }
        });
        Ok(Watcher {
            child,
            lines: BufReader::new(stdout).lines(),
            stderr: collected,
        })
    }

    /// What the watch has written to standard error so far.
    fn stderr(&self) -> String {
        self.stderr.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Reads lines until `accept` takes one, within `timeout`; returns what it made of that
    /// line and every line read (the accepted one last).
    async fn until<T>(
        &mut self,
        timeout: Duration,
        what: &str,
        mut accept: impl FnMut(&str) -> Option<T>,
    ) -> anyhow::Result<(T, Vec<String>)> {
        let mut seen = Vec::new();
        let found = tokio::time::timeout(timeout, async {
            while let Some(line) = self.lines.next_line().await? {
                let taken = accept(&line);
                seen.push(line);
                if let Some(value) = taken {
                    return Ok::<_, std::io::Error>(Some(value));
                }
            }
            Ok(None)
        })
        .await;
        let why = match found {
            Ok(Ok(Some(value))) => return Ok((value, seen)),
            Ok(Ok(None)) => "its output ended".to_string(),
            Ok(Err(e)) => format!("reading its output failed: {e}"),
            Err(_) => format!("nothing within {timeout:?}"),
        };
        anyhow::bail!(
            "the watch did not print {what} ({why}); it printed:\n{}\n--- stderr ---\n{}",
            seen.join("\n"),
            self.stderr()
        )
    }

    /// Reads JSON event lines until one satisfies `accept`; returns it and every event read.
    async fn until_event(
        &mut self,
        timeout: Duration,
        what: &str,
        accept: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<(Value, Vec<Value>)> {
        let (event, lines) = self
            .until(timeout, what, |line| {
                serde_json::from_str::<Value>(line)
                    .ok()
                    .filter(|event| accept(event))
            })
            .await?;
        let events = lines
            .iter()
            .map(|line| serde_json::from_str(line))
            .collect::<Result<Vec<Value>, _>>()
            .with_context(|| format!("every line of `watch --json` is JSON: {lines:?}"))?;
        Ok((event, events))
    }

    /// Sends SIGINT (what Ctrl-C sends) and waits for the watch to exit.
    async fn interrupt(mut self) -> anyhow::Result<(ExitStatus, String)> {
        let pid = self.child.id().context("the watch has already exited")?;
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .context("running kill -INT")?;
        anyhow::ensure!(sent.success(), "kill -INT {pid} failed: {sent}");
        let status = tokio::time::timeout(EXIT_TIMEOUT, self.child.wait())
            .await
            .context("the watch did not exit after Ctrl-C")??;
        Ok((status, self.stderr()))
    }
}

/// The alert message of a watch event, when it is one of `kind` about alert `id`.
fn is_message(event: &Value, kind: &str, id: &str) -> bool {
    let alert = &event["alert"];
    text(alert, "kind") == kind
        && (text(alert, "id") == id || text(alert, "refers_to") == id)
        && event["position"].is_u64()
}

/// The alert id of an `alert show --json` view: its current content may be an update, which
/// refers to the alert.
fn alert_id(view: &Value) -> &str {
    match text(&view["alert"], "refers_to") {
        "" => text(&view["alert"], "id"),
        id => id,
    }
}

/// The id of a watch event's alert message or acknowledgement.
fn event_id(event: &Value) -> String {
    let id = text(&event["alert"], "id");
    if id.is_empty() {
        text(&event["ack"], "id").to_string()
    } else {
        id.to_string()
    }
}

#[tokio::test]
async fn an_alert_is_seen_acknowledged_and_cancelled_across_the_border() -> anyhow::Result<()> {
    let mesh = two_states().await?;
    let poster = config(&mesh, DHANBAD, "JH-7101", Role::Liaison)?;
    let origin_watch = config(&mesh, DHANBAD, "JH-7102", Role::Officer)?;
    let receiver = config(&mesh, ASANSOL, "WB-8101", Role::Liaison)?;
    let receiver_watch = config(&mesh, ASANSOL, "WB-8102", Role::Officer)?;

    // Officers of the receiving district watch before anything is posted.
    let mut watch = Watcher::start(&receiver_watch, &["--json"])?;
    let mut origin = Watcher::start(&origin_watch, &[])?;

    let title = "Cash van robbed at Test Nagar";
    let id = post(
        &poster,
        title,
        &[
            "--target",
            ASANSOL,
            "--incident-at",
            "2025-10-09T08:30:00+05:30",
            "--place",
            "Test Nagar, near the fictional bank",
            "--vehicle",
            "JH 99 ZZ 0001",
            "--warning",
            "armed",
            "--action",
            "stop and detain",
        ],
    )
    .await?;

    // The origin knows the alert and that the target has not acknowledged it yet.
    let view = show(&poster, &id).await?;
    assert_eq!(text(&view, "state"), "open", "{view}");
    assert_eq!(text(&view["alert"], "title"), title, "{view}");
    assert_eq!(text(&view["alert"], "priority"), "flash", "{view}");
    assert_eq!(view["alert"]["warnings"][0], "armed", "{view}");
    let awaiting = target(&view, ASANSOL).context("the target is listed")?;
    assert!(awaiting["ack"].is_null(), "{view}");
    assert_eq!(awaiting["overdue"], false, "{view}");
    let card = setu(&poster, &["alert", "show", &id]).await?.success()?;
    for needle in [
        "FLASH",
        "OPEN",
        title,
        "stop and detain",
        "JH 99 ZZ 0001",
        "2025-10-09 03:00 UTC at Test Nagar, near the fictional bank",
    ] {
        assert!(card.stdout.contains(needle), "{needle:?} in\n{card}");
    }
    assert!(
        card.stdout
            .lines()
            .any(|l| l.contains(ASANSOL) && l.contains("awaiting, due in")),
        "the target awaits:\n{card}"
    );

    // The receiving district's watch shows the alert live, as one JSON object per line.
    let (event, _) = watch
        .until_event(WATCH_TIMEOUT, "the alert", |e| is_message(e, "alert", &id))
        .await?;
    assert_eq!(text(&event["alert"], "title"), title, "{event}");
    assert_eq!(text(&event["alert"], "origin"), DHANBAD, "{event}");

    // A liaison of the receiving district acknowledges it on their own node.
    let note = "nakabandi at the test river bridge";
    let acked = setu(&receiver, &["alert", "ack", &id, "--note", note])
        .await?
        .success()?;
    assert!(
        acked
            .stdout
            .starts_with(&format!("acknowledged alert {id} for {ASANSOL}")),
        "{acked}"
    );

    // The acknowledgement travels back: the origin's watch prints it as one line ...
    let (line, _) = origin
        .until(WATCH_TIMEOUT, "the acknowledgement", |line| {
            line.starts_with(&format!("ACK {ASANSOL} acknowledged"))
                .then(|| line.to_string())
        })
        .await?;
    assert!(line.contains("WB-8101"), "{line}");
    assert!(line.ends_with(&format!(": {note}")), "{line}");

    // ... and the origin's view shows who acknowledged and what they did.
    let view = wait_for(SYNC_TIMEOUT, "the origin knows the acknowledgement", || {
        let poster = &poster;
        let id = &id;
        async move {
            let view = show(poster, id).await.map_err(|e| e.to_string())?;
            match target(&view, ASANSOL) {
                Some(t) if !t["ack"].is_null() => Ok(view.clone()),
                _ => Err(format!("not yet: {view}")),
            }
        }
    })
    .await?;
    assert_eq!(view["all_acks_known"], true, "{view}");
    let ack = &target(&view, ASANSOL).context("the target is listed")?["ack"];
    assert_eq!(text(ack, "note"), note, "{view}");
    assert_eq!(text(ack, "officer_badge"), "WB-8101", "{view}");
    let card = setu(&poster, &["alert", "show", &id]).await?.success()?;
    assert!(
        card.stdout.lines().any(|l| l.contains(ASANSOL)
            && l.contains("acknowledged")
            && l.contains("WB-8101")
            && l.contains(note)),
        "{card}"
    );

    // The receiver knows only its own district's acknowledgement, and says so.
    let card = setu(&receiver, &["alert", "show", &id]).await?.success()?;
    assert!(
        card.stdout
            .contains("acknowledgements of other districts are known at the origin"),
        "{card}"
    );

    // An update prints its own id; the receiver's watch shows it as an UPDATE of the alert,
    // and the view carries the new content and the update in its history.
    let new_title = "Cash van robbed at Test Nagar: two suspects identified";
    let updated = setu(
        &poster,
        &[
            "alert",
            "update",
            &id,
            "--title",
            new_title,
            "--reason",
            "two suspects identified",
        ],
    )
    .await?
    .success()?;
    let update_id = updated.stdout.trim().to_string();
    assert!(
        !update_id.is_empty() && update_id != id && updated.stdout.lines().count() == 1,
        "{updated}"
    );
    let (event, _) = watch
        .until_event(WATCH_TIMEOUT, "the update", |e| {
            is_message(e, "update", &id)
        })
        .await?;
    assert_eq!(text(&event["alert"], "id"), update_id, "{event}");
    assert_eq!(text(&event["alert"], "title"), new_title, "{event}");
    let view = show(&poster, &id).await?;
    assert_eq!(text(&view["alert"], "title"), new_title, "{view}");
    assert_eq!(view["history"].as_array().map(Vec::len), Some(2), "{view}");

    // The origin cancels; the receiver's copy turns cancelled and its watch shows the CANCEL.
    let reason = "suspects arrested at the test checkpost";
    let cancelled = setu(&poster, &["alert", "cancel", &id, "--reason", reason])
        .await?
        .success()?;
    assert_eq!(cancelled.stdout, format!("cancelled alert {id}\n"));
    let (event, _) = watch
        .until_event(WATCH_TIMEOUT, "the cancellation", |e| {
            is_message(e, "cancel", &id)
        })
        .await?;
    assert_eq!(text(&event["alert"], "reason"), reason, "{event}");
    let view = wait_for(SYNC_TIMEOUT, "the receiver sees the cancellation", || {
        let receiver = &receiver;
        let id = &id;
        async move {
            let view = show(receiver, id).await.map_err(|e| e.to_string())?;
            if text(&view, "state") == "cancelled" {
                Ok(view)
            } else {
                Err(format!("not yet: {view}"))
            }
        }
    })
    .await?;
    let history = view["history"].as_array().context("a history")?;
    assert!(
        history
            .iter()
            .any(|m| text(m, "kind") == "cancel" && text(m, "reason") == reason),
        "{view}"
    );

    // Both lists show it, newest first, as cancelled.
    let listed = setu_json(&poster, &["alert", "list"]).await?;
    let alerts = listed["alerts"].as_array().context("a list of alerts")?;
    assert!(
        alerts
            .iter()
            .any(|a| alert_id(a) == id && text(a, "state") == "cancelled"),
        "{listed}"
    );
    let table = setu(&receiver, &["alert", "list"]).await?.success()?;
    assert!(
        table
            .stdout
            .lines()
            .any(|l| l.starts_with(&id) && l.contains("CANCELLED")),
        "{table}"
    );
    let open = setu_json(&receiver, &["alert", "list", "--open"]).await?;
    assert!(
        open["alerts"]
            .as_array()
            .is_none_or(|a| a.iter().all(|a| alert_id(a) != id)),
        "a cancelled alert is not open: {open}"
    );

    // Ctrl-C ends a watch cleanly.
    for watcher in [watch, origin] {
        let (status, stderr) = watcher.interrupt().await?;
        assert!(
            status.success(),
            "exit {status} after Ctrl-C; stderr:\n{stderr}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_watch_reconnects_and_resumes_after_its_node_returns() -> anyhow::Result<()> {
    let mut mesh = two_states().await?;
    let poster = config(&mesh, DHANBAD, "JH-7201", Role::Liaison)?;
    let receiver_watch = config(&mesh, ASANSOL, "WB-8201", Role::Officer)?;

    let first = post(&poster, "Test lorry hijacked near the toll plaza", &[]).await?;
    let mut watch = Watcher::start(&receiver_watch, &["--json"])?;
    let (_, before) = watch
        .until_event(WATCH_TIMEOUT, "the first alert", |e| {
            is_message(e, "alert", &first)
        })
        .await?;

    // The receiving node goes away; the watch says so on stderr and keeps trying.
    tokio::time::timeout(EXIT_TIMEOUT, mesh.node_mut(ASANSOL).stop())
        .await
        .context("the node did not stop while a watch was open")??;
    wait_until(WATCH_TIMEOUT, "the watch reports the broken stream", || {
        let stderr = watch.stderr();
        async move { stderr.contains("reconnecting in") }
    })
    .await?;

    // An alert posted meanwhile (to every peer: no --target) reaches the watch once the node
    // is back, and nothing printed before the break is printed again.
    let second = post(&poster, "Test motorcycle gang crossed the border", &[]).await?;
    mesh.node_mut(ASANSOL).start_again().await?;
    let (_, after) = watch
        .until_event(RECONNECT_TIMEOUT, "the second alert", |e| {
            is_message(e, "alert", &second)
        })
        .await?;
    let printed_before: Vec<String> = before.iter().map(event_id).collect();
    for event in &after {
        assert!(
            !printed_before.contains(&event_id(event)),
            "{event} was printed again after reconnecting"
        );
    }
    // Standard error is read by a task of its own, so the notices may trail the events.
    wait_until(WATCH_TIMEOUT, "the watch reports reconnecting", || {
        let stderr = watch.stderr();
        async move { stderr.contains("reconnected to") }
    })
    .await?;
    let stderr = watch.stderr();
    assert!(
        stderr.contains(&format!("resuming after {first}")),
        "{stderr}"
    );

    let (status, stderr) = watch.interrupt().await?;
    assert!(
        status.success(),
        "exit {status} after Ctrl-C; stderr:\n{stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn refusals_name_the_role_the_limit_and_the_flag() -> anyhow::Result<()> {
    let mesh = two_states().await?;
    let liaison = config(&mesh, DHANBAD, "JH-7301", Role::Liaison)?;
    let officer = config(&mesh, DHANBAD, "JH-7302", Role::Officer)?;

    // A successful call first, so that the refusals below come from a node that is up; with
    // --json, `alert post` prints the alert as posted.
    let posted = setu_json(
        &liaison,
        &[
            "alert",
            "post",
            "--priority",
            "routine",
            "--category",
            "wanted-person",
            "--title",
            "Test alert that proves the node is up",
            "--body",
            "Nothing happened; this alert only starts the test.",
            "--expires-in",
            "1h30m",
        ],
    )
    .await?;
    assert!(!text(&posted, "id").is_empty(), "{posted}");
    assert_eq!(text(&posted, "kind"), "alert", "{posted}");
    assert_eq!(text(&posted, "priority"), "routine", "{posted}");
    assert_eq!(text(&posted, "category"), "wanted-person", "{posted}");
    assert_eq!(posted["targets"], serde_json::json!([ASANSOL]), "{posted}");
    let expires_in = posted["expires_at_ms"].as_i64().unwrap_or_default()
        - posted["posted_at_ms"].as_i64().unwrap_or_default();
    assert!(
        (85 * 60_000..=95 * 60_000).contains(&expires_in),
        "1h30m from posting: {posted}"
    );

    let args = |expires: &'static str| {
        vec![
            "alert",
            "post",
            "--priority",
            "immediate",
            "--category",
            "missing-person",
            "--title",
            "Test child missing from the fair ground",
            "--body",
            "Eight years old, red shirt.",
            "--expires-in",
            expires,
        ]
    };

    // An officer without the liaison role may not post: the node says which roles may.
    let refused = setu(&officer, &args("2h")).await?;
    assert_failed(&refused, &["not allowed"]);
    let stderr = refused.stderr.to_lowercase();
    assert!(
        stderr.contains("liaison") || stderr.contains("role"),
        "the refusal mentions the role:\n{refused}"
    );

    // An expiry beyond the node's limit is refused by the node, naming the field.
    let refused = setu(&liaison, &args("40d")).await?;
    assert_failed(
        &refused,
        &["the alert's expiry is 40 days ahead; the limit is 30 days"],
    );
    assert!(!refused.stderr.contains("expires_at_ms"), "{refused}");

    // A duration the CLI cannot read never reaches the node: a usage error naming the flag
    // and the format.
    let refused = setu(&liaison, &args("xyz")).await?;
    assert_failed(&refused, &["--expires-in", "e.g. 30m, 2h, 1d or 1h30m"]);
    assert_eq!(refused.status.code(), Some(2), "a usage error:\n{refused}");

    // A watch the node refuses ends at once with the node's explanation, and so does a watch
    // of a node that cannot be reached at all.
    let refused = setu(
        &liaison,
        &[
            "alert",
            "watch",
            "--after",
            "01a20860-0000-7000-8000-000000000000",
        ],
    )
    .await?;
    assert_failed(
        &refused,
        &[
            "the resume point (--after) 01a20860",
            "is not an alert event",
        ],
    );
    assert!(!refused.stderr.contains("invalid argument"), "{refused}");
    let nowhere = mesh.dir().join("nowhere.toml");
    let ca = mesh.ca_of(DHANBAD);
    write_client_config(
        &nowhere,
        &format!("https://127.0.0.1:{}", free_port()?),
        &ca.cert_path(),
        &ca.officer(DHANBAD, "JH-7303", Role::Officer)?,
    )?;
    let unreachable = setu(&nowhere, &["alert", "watch"]).await?;
    assert_failed(&unreachable, &["could not reach the node"]);

    // Nothing refused was stored.
    let listed = setu_json(&liaison, &["alert", "list"]).await?;
    assert_eq!(
        listed["alerts"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    Ok(())
}

/// Cards name the linked people (read on the officer's own node with the officer's own
/// certificate) and photos by a short hash, and show the acknowledgement deadline as a
/// countdown. A FLASH alert that passes its deadline without the watching district's
/// acknowledgement is printed again under an OVERDUE banner (a JSON `overdue` line with
/// `--json`), once, by the watch's own timer; one the district acknowledged never is.
#[tokio::test]
async fn cards_name_people_and_an_overdue_flash_rings_again() -> anyhow::Result<()> {
    let mesh = two_states().await?;
    let poster = config(&mesh, DHANBAD, "JH-7301", Role::Liaison)?;
    let author = config(&mesh, DHANBAD, "JH-7302", Role::Officer)?;
    let receiver = config(&mesh, ASANSOL, "WB-8301", Role::Liaison)?;
    let receiver_watch = config(&mesh, ASANSOL, "WB-8302", Role::Officer)?;

    // A wanted person of Dhanbad, shared with its peers, to link to the alerts.
    let person = setu_json(
        &author,
        &[
            "record",
            "add",
            "--name",
            "Test Imaginary Mahto",
            "--status",
            "wanted",
            "--warning",
            "armed",
            "--handling",
            "peers",
        ],
    )
    .await?;
    let person_id = text(&person, "id").to_string();
    anyhow::ensure!(!person_id.is_empty(), "no record id: {person}");
    wait_until(SYNC_TIMEOUT, "the record reaches Asansol", || {
        let (config, id) = (receiver_watch.clone(), person_id.clone());
        async move {
            setu(&config, &["record", "show", &id])
                .await
                .is_ok_and(|f| f.status.success())
        }
    })
    .await?;

    // Asansol's clock runs 9 min 45 s ahead: a FLASH alert posted in Dhanbad now falls due
    // there about 15 s later, which the watch must notice by itself.
    mesh.node(ASANSOL)
        .config()
        .clock
        .advance(Duration::from_secs(9 * 60 + 45));

    // One FLASH alert that Asansol acknowledges before anyone watches.
    let acked = post(&poster, "Test acknowledged robbery", &[]).await?;
    wait_until(WATCH_TIMEOUT, "the first alert reaches Asansol", || {
        let (config, id) = (receiver.clone(), acked.clone());
        async move {
            setu(&config, &["alert", "show", &id])
                .await
                .is_ok_and(|f| f.status.success())
        }
    })
    .await?;
    setu(&receiver, &["alert", "ack", &acked, "--note", "checked"])
        .await?
        .success()?;

    let mut watch = Watcher::start(&receiver_watch, &[])?;
    let mut json_watch = Watcher::start(&receiver_watch, &["--json"])?;
    // A record Dhanbad keeps to itself: Asansol cannot read it.
    let hidden = setu_json(
        &author,
        &[
            "record",
            "add",
            "--name",
            "Test Fictional Hembrom",
            "--status",
            "wanted",
            "--handling",
            "local-only",
        ],
    )
    .await?;
    let hidden_id = text(&hidden, "id").to_string();
    let hidden_short = format!("{}…", hidden_id.chars().take(8).collect::<String>());
    // A photo of the shared person, linked by its hash.
    let photo_file = mesh.dir().join("person.png");
    std::fs::write(&photo_file, setu_tests::png_bytes([10, 20, 30]))?;
    setu(
        &author,
        &[
            "record",
            "photo",
            "add",
            &person_id,
            &photo_file.to_string_lossy(),
        ],
    )
    .await?
    .success()?;
    let with_photo = setu_json(&author, &["record", "show", &person_id]).await?;
    let photo = text(&with_photo["photos"][0], "sha256").to_string();
    anyhow::ensure!(photo.len() == 64, "no photo: {with_photo}");
    let short_photo = format!("photo {}", &photo[..12]);
    let late = post(
        &poster,
        "Test cash van robbed at Imaginary Chowk",
        &[
            "--record", &person_id, "--record", &hidden_id, "--photo", &photo,
        ],
    )
    .await?;

    // The card names the person, marks the record Asansol cannot read, shows the photo's
    // short hash and the deadline as a countdown.
    let header = format!("FLASH ALERT {late}");
    let (_, mut seen) = watch
        .until(WATCH_TIMEOUT, "the second alert's card", |line| {
            line.starts_with(&header).then_some(())
        })
        .await?;
    let (_, card) = watch
        .until(WATCH_TIMEOUT, "the second alert's deadline", |line| {
            line.starts_with("Ack deadline").then_some(())
        })
        .await?;
    seen.extend(card.iter().cloned());
    let card = card.join("\n");
    assert!(
        card.contains(&format!(
            "People        Test Imaginary Mahto (wanted; armed) {person_id}"
        )),
        "{card}"
    );
    assert!(
        card.contains(&format!("{hidden_short} (not available here)")),
        "{card}"
    );
    assert!(!card.contains("Test Fictional Hembrom"), "{card}");
    assert!(
        card.contains(&format!("Photos        {short_photo}")),
        "{card}"
    );
    assert!(!card.contains(&photo), "no full hash: {card}");
    let deadline = card.lines().last().unwrap_or_default();
    assert!(
        deadline.contains("UTC") && (deadline.contains("(in ") || deadline.contains("(passed ")),
        "a local time with its zone and a countdown: {deadline}"
    );

    // Then, by the watch's timer, the OVERDUE banner and the card again.
    let (_, rung) = watch
        .until(WATCH_TIMEOUT, "the OVERDUE banner", |line| {
            line.starts_with("OVERDUE").then(|| line.to_string())
        })
        .await?;
    let banner = rung.last().cloned().unwrap_or_default();
    assert!(
        banner.contains(&format!(
            "FLASH ALERT {late} is not acknowledged by {ASANSOL}"
        )),
        "{banner}"
    );
    let (_, again) = watch
        .until(WATCH_TIMEOUT, "the card after the banner", |line| {
            line.starts_with("Ack deadline").then_some(())
        })
        .await?;
    let again = again.join("\n");
    assert!(
        again.contains("Test Imaginary Mahto (wanted; armed)"),
        "{again}"
    );
    assert!(again.contains("(passed "), "{again}");
    seen.extend(rung.iter().cloned());
    for line in &seen {
        assert!(
            !(line.starts_with("OVERDUE") && line.contains(&acked)),
            "the acknowledged alert rang: {line}"
        );
    }

    let (event, events) = json_watch
        .until_event(WATCH_TIMEOUT, "the overdue event", |e| {
            text(&e["overdue"], "alert_id") == late
        })
        .await?;
    assert_eq!(text(&event["overdue"], "district"), ASANSOL, "{event}");
    assert_eq!(text(&event["overdue"], "priority"), "flash", "{event}");
    assert!(
        event["overdue"]["overdue_by_ms"].as_i64() >= Some(0),
        "{event}"
    );
    assert!(
        !events
            .iter()
            .any(|e| text(&e["overdue"], "alert_id") == acked),
        "the acknowledged alert has no overdue event: {events:?}"
    );

    // `alert show` names the people the same way.
    let shown = setu(&receiver_watch, &["alert", "show", &late])
        .await?
        .success()?;
    assert!(
        shown
            .stdout
            .contains("Test Imaginary Mahto (wanted; armed)"),
        "{shown}"
    );
    assert!(shown.stdout.contains(&short_photo), "{shown}");

    for watcher in [watch, json_watch] {
        let (status, stderr) = watcher.interrupt().await?;
        assert!(status.success(), "exit {status}; stderr:\n{stderr}");
    }
    Ok(())
}
