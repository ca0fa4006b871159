//! Benchmark of cross-border alerts (issue 5): the time from posting an alert on node A
//! (jh-dhanbad) to its receipt by officers watching on node B (wb-asansol-durgapur), over
//! mutual TLS on loopback, with one watcher and with many (200 by default). The aim is a
//! p99 of at most 50 ms.
//!
//! Run with `cargo build --release --bins && cargo bench -p setu-tests --bench alerts`.
//! `SETU_BENCH_ALERTS` sets the number of posts per scenario (default 200);
//! `SETU_BENCH_ALERT_WATCHERS` the number of watchers of the second scenario (default 200);
//! `SETU_BENCH_ALERT_GAP_MS` the idle time after each post has reached every watcher
//! (default 10 ms); `SETU_BENCH_A_LOG` and `SETU_BENCH_B_LOG` the nodes' log filters
//! (default `warn`). Without `--bench` (as under `cargo test`) a quick version runs: 10 posts,
//! 1 and 10 watchers.
//!
//! Both nodes are the real `setu-node` binary, so that B's memory is its own; this process
//! only holds the officers' connections. Each watcher is a separate officer of B with its own
//! certificate, its own mTLS connection and its own `Watch` stream (`live_only`). Posts are
//! sequential: the clock starts just before the `Post` call to A, the next post goes out once
//! every watcher has received the previous one and the gap has passed, so each latency is
//! that of one alert on otherwise idle nodes. A latency is the receive instant of the alert
//! on one watcher's stream minus the send instant, measured end to end: A's commit, audit
//! and fsync, A's sync stream to B, B's verification, apply and fsync, and B's watch
//! delivery. All three processes share the machine's cores.

use anyhow::Context;
use setu_node::config::{NodeConfig, PeerConfig, SendHandling};
use setu_node::trust::identity::Role;
use setu_node::trust::pki::{write_issued, Ca, IssuedCert, Validity};
use setu_proto::v1::alert_event::Event;
use setu_proto::v1::alert_service_client::AlertServiceClient;
use setu_proto::v1::{
    AlertCategory, AlertPriority, ListAlertsRequest, PostAlertRequest, Warning, WatchAlertsRequest,
};
use setu_tests::bench::{channel, env_usize, node_binary, percentile, proc_status_kib};
use setu_tests::mesh::free_port;
use tokio::sync::mpsc;
use tonic::transport::Channel;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

const A: &str = "jh-dhanbad";
const B: &str = "wb-asansol-durgapur";
/// How long one post may take to reach every watcher before the benchmark gives up.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(30);
/// The first warm-up post also waits for B's puller to reach A.
const FIRST_DELIVERY_DEADLINE: Duration = Duration::from_secs(90);
/// Posts before each scenario whose latencies are not counted.
const WARM_UP_POSTS: usize = 3;
/// The aim of issue 5.
const AIM_P99_MS: f64 = 50.0;
const REPRODUCE: &str = "cargo build --release --bins && cargo bench -p setu-tests --bench alerts";

fn main() -> anyhow::Result<()> {
    let quick = !std::env::args().any(|a| a == "--bench");
    setu_node::net::tls::install_crypto_provider();
    let settings = Settings {
        posts: if quick {
            10
        } else {
            env_usize("SETU_BENCH_ALERTS", 200)
        },
        many: if quick {
            10
        } else {
            env_usize("SETU_BENCH_ALERT_WATCHERS", 200)
        },
        gap: Duration::from_millis(env_usize("SETU_BENCH_ALERT_GAP_MS", 10) as u64),
        quick,
    };
    anyhow::ensure!(
        settings.posts > 0 && settings.many > 0,
        "SETU_BENCH_ALERTS and SETU_BENCH_ALERT_WATCHERS must be at least 1"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(settings))
}

/// What one run measures.
#[derive(Debug, Clone, Copy)]
struct Settings {
    /// Measured posts per scenario.
    posts: usize,
    /// Watchers of the second scenario.
    many: usize,
    /// Idle time after each post has reached every watcher.
    gap: Duration,
    quick: bool,
}

/// What a watcher's task reports to the coordinator.
enum Report {
    /// Watcher `watcher` received the alert `id` at `at`.
    Received {
        watcher: usize,
        id: String,
        at: Instant,
    },
    /// The watcher's stream ended or failed.
    Ended { watcher: usize, why: String },
}

/// The figures of one scenario.
struct Outcome {
    watchers: usize,
    /// From the send instant to A's response to `Post`, per post.
    acked: Vec<Duration>,
    /// From the send instant to each watcher's receipt, per (post, watcher) pair.
    pairs: Vec<Duration>,
    /// The first watcher's receipt, per post.
    first: Vec<Duration>,
    /// The last watcher's receipt, per post.
    slowest: Vec<Duration>,
    /// Node B's VmRSS with every watcher connected, after the posts.
    b_rss_kib: Option<u64>,
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    let ca = Ca::generate("Bench Alerts CA")?;
    ca.save(&root.join("ca"))?;
    let ca_pem = root.join("ca").join("ca.pem");
    for (district, name) in [(A, "a"), (B, "b")] {
        let node = ca.issue_node(district, &["127.0.0.1".to_string()], Validity::days(2))?;
        write_issued(&root.join(name), "node", &node)?;
    }
    let liaison_a = ca.issue_officer(
        A,
        "JH-8801",
        "Bench Liaison Kavya Tirkey",
        Role::Liaison,
        Validity::days(2),
    )?;
    // One officer, and so one certificate, per watcher: every watcher is its own client.
    let watchers_b = (0..settings.many)
        .map(|i| {
            ca.issue_officer(
                B,
                &format!("WB-{}", 7001 + i),
                "Bench Watcher Ritam Ghoshal",
                Role::Officer,
                Validity::days(2),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;

    let (port_a, port_b) = (free_port()?, free_port()?);
    let (addr_a, addr_b) = (format!("127.0.0.1:{port_a}"), format!("127.0.0.1:{port_b}"));
    let started = Instant::now();
    let node_a = spawn_node(
        root,
        "a",
        A,
        port_a,
        (B, port_b),
        &ca_pem,
        "SETU_BENCH_A_LOG",
    )?;
    let a_ch = reachable(&addr_a, &ca, &liaison_a).await?;
    let mut poster = AlertServiceClient::new(a_ch);
    // B starts once A answers, so that its puller reaches A at its first attempt.
    let node_b = spawn_node(
        root,
        "b",
        B,
        port_b,
        (A, port_a),
        &ca_pem,
        "SETU_BENCH_B_LOG",
    )?;
    let b_pid = node_b.id().context("B's pid")?;
    let a_pid = node_a.id().context("A's pid")?;
    reachable(&addr_b, &ca, &watchers_b[0]).await?;
    eprintln!(
        "both nodes answer after {:.1} s; B's RSS at rest {} MiB",
        started.elapsed().as_secs_f64(),
        proc_status_kib(b_pid, "VmRSS:").unwrap_or(0) / 1024
    );

    let mut outcomes = Vec::new();
    let mut warm = true;
    for count in [1, settings.many] {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let opened = Instant::now();
        let mut tasks = Vec::with_capacity(count);
        for (i, officer) in watchers_b.iter().take(count).enumerate() {
            tasks.push(open_watcher(i, &addr_b, &ca, officer, tx.clone()).await?);
        }
        drop(tx);
        eprintln!(
            "{count} watcher(s) connected to B in {:.2} s; B's RSS {} MiB",
            opened.elapsed().as_secs_f64(),
            proc_status_kib(b_pid, "VmRSS:").unwrap_or(0) / 1024
        );
        let mut deadline = if warm {
            FIRST_DELIVERY_DEADLINE
        } else {
            DELIVERY_DEADLINE
        };
        warm = false;
        for n in 0..WARM_UP_POSTS {
            post_and_collect(&mut poster, &mut rx, count, n, true, deadline).await?;
            deadline = DELIVERY_DEADLINE;
        }
        let mut outcome = Outcome {
            watchers: count,
            acked: Vec::with_capacity(settings.posts),
            pairs: Vec::with_capacity(settings.posts * count),
            first: Vec::with_capacity(settings.posts),
            slowest: Vec::with_capacity(settings.posts),
            b_rss_kib: None,
        };
        for n in 0..settings.posts {
            let (acked, mut received) =
                post_and_collect(&mut poster, &mut rx, count, n, false, deadline).await?;
            received.sort();
            outcome.acked.push(acked);
            outcome.first.push(received[0]);
            outcome.slowest.push(received[received.len() - 1]);
            outcome.pairs.extend(received);
            tokio::time::sleep(settings.gap).await; // sleep-ok: the documented idle gap between posts
        }
        outcome.b_rss_kib = proc_status_kib(b_pid, "VmRSS:");
        for task in &tasks {
            task.abort();
        }
        outcomes.push(outcome);
    }

    let b_hwm = proc_status_kib(b_pid, "VmHWM:");
    let a_rss = proc_status_kib(a_pid, "VmRSS:");
    let a_hwm = proc_status_kib(a_pid, "VmHWM:");
    summary(&settings, &mut outcomes, b_hwm, (a_rss, a_hwm));
    drop(poster);
    stop(node_b).await?;
    stop(node_a).await?;
    Ok(())
}

/// Writes `name/node.toml` for `district` on `port`, peering with `peer`, and starts the
/// real `setu-node` binary on it; `log_var` names the variable with its log filter.
fn spawn_node(
    root: &Path,
    name: &str,
    district: &str,
    port: u16,
    peer: (&str, u16),
    ca_pem: &Path,
    log_var: &str,
) -> anyhow::Result<tokio::process::Child> {
    let dir = root.join(name);
    let mut config = NodeConfig::new(
        district,
        dir.join("data"),
        dir.join("node.pem"),
        dir.join("node.key"),
        vec![setu_tests::node::state_trust(ca_pem, district)],
    );
    config.listen = format!("127.0.0.1:{port}").parse()?;
    config.peers = vec![PeerConfig {
        district: peer.0.to_string(),
        address: format!("https://127.0.0.1:{}", peer.1),
        ca: ca_pem.to_path_buf(),
        send: vec![SendHandling::Peers, SendHandling::Federation],
        relay_origins: vec!["*".to_string()],
    }];
    std::fs::write(dir.join("node.toml"), config.to_toml()?)?;
    Ok(tokio::process::Command::new(node_binary()?)
        .args(["serve", "--config"])
        .arg(dir.join("node.toml"))
        .env(
            "SETU_LOG",
            std::env::var(log_var).unwrap_or_else(|_| "warn".into()),
        )
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?)
}

/// A channel to the node at `addr` as `officer`, once the node answers an alert call.
async fn reachable(addr: &str, ca: &Ca, officer: &IssuedCert) -> anyhow::Result<Channel> {
    let started = Instant::now();
    loop {
        let attempt = async {
            let ch = channel(addr, ca, &officer.cert_pem, &officer.key_pem).await?;
            AlertServiceClient::new(ch.clone())
                .list(ListAlertsRequest {
                    page_size: 1,
                    ..Default::default()
                })
                .await?;
            anyhow::Ok(ch)
        };
        match attempt.await {
            Ok(ch) => return Ok(ch),
            Err(e) if started.elapsed() > Duration::from_secs(30) => {
                return Err(e.context(format!(
                    "the node at {addr} did not answer AlertService/List within 30 s \
                     (is {} older than the alert service? rebuild it)",
                    node_binary()?.display()
                )))
            }
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await; // sleep-ok: poll interval while the node starts
            }
        }
    }
}

/// Connects watcher `index` to B over its own mTLS connection, opens its live `Watch`
/// stream and returns the task that reports each alert it receives.
async fn open_watcher(
    index: usize,
    addr: &str,
    ca: &Ca,
    officer: &IssuedCert,
    reports: mpsc::UnboundedSender<Report>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let ch = channel(addr, ca, &officer.cert_pem, &officer.key_pem).await?;
    let mut client = AlertServiceClient::new(ch);
    // The response arrives once B has fixed the stream's start at its feed head, so every
    // alert posted after this returns is streamed to the watcher.
    let mut stream = client
        .watch(WatchAlertsRequest {
            after_id: String::new(),
            live_only: true,
            ..Default::default()
        })
        .await
        .with_context(|| format!("opening watcher {index}'s stream"))?
        .into_inner();
    Ok(tokio::spawn(async move {
        // The client stays in the task so that the connection lives as long as the stream.
        let _client = client;
        loop {
            match stream.message().await {
                Ok(Some(event)) => {
                    let at = Instant::now();
                    if let Some(Event::Alert(alert)) = event.event {
                        let report = Report::Received {
                            watcher: index,
                            id: alert.id,
                            at,
                        };
                        if reports.send(report).is_err() {
                            return;
                        }
                    }
                }
                Ok(None) => {
                    let _ = reports.send(Report::Ended {
                        watcher: index,
                        why: "the stream ended".into(),
                    });
                    return;
                }
                Err(status) => {
                    let _ = reports.send(Report::Ended {
                        watcher: index,
                        why: status.to_string(),
                    });
                    return;
                }
            }
        }
    }))
}

/// Posts alert `n` on A and waits until all `watchers` have received it; returns the time
/// until A acknowledged the post and each watcher's latency, both from the send instant.
async fn post_and_collect(
    poster: &mut AlertServiceClient<Channel>,
    reports: &mut mpsc::UnboundedReceiver<Report>,
    watchers: usize,
    n: usize,
    warm_up: bool,
    deadline: Duration,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let request = lookout(n, warm_up);
    let sent = Instant::now();
    let posted = poster
        .post(request)
        .await
        .context("posting an alert on A")?
        .into_inner();
    let acked = sent.elapsed();
    // A watcher may in principle see the alert before A's response arrives here, so
    // receipts are keyed by alert id and only read after the post returned.
    let mut received: Vec<Option<Instant>> = vec![None; watchers];
    let mut missing = watchers;
    let mut early: HashMap<String, usize> = HashMap::new();
    while missing > 0 {
        let left = deadline.saturating_sub(sent.elapsed());
        let report = match tokio::time::timeout(left, reports.recv()).await {
            Ok(Some(report)) => report,
            Ok(None) => anyhow::bail!("every watcher's task ended"),
            Err(_) => anyhow::bail!(
                "alert {} reached {} of {watchers} watchers on B within {deadline:?}",
                posted.id,
                watchers - missing
            ),
        };
        match report {
            Report::Received { watcher, id, at } if id == posted.id => {
                anyhow::ensure!(
                    received[watcher].replace(at).is_none(),
                    "watcher {watcher} received alert {id} twice"
                );
                missing -= 1;
            }
            Report::Received { id, .. } => {
                // Every earlier post reached every watcher before this one went out, so any
                // other alert here is a duplicate or a stray; it fails the run below.
                *early.entry(id).or_default() += 1;
            }
            Report::Ended { watcher, why } => {
                anyhow::bail!("watcher {watcher}'s stream stopped: {why}")
            }
        }
    }
    anyhow::ensure!(
        early.is_empty(),
        "watchers received alerts other than the one just posted: {early:?}"
    );
    let latencies = received
        .into_iter()
        .map(|at| at.map(|at| at.saturating_duration_since(sent)))
        .collect::<Option<Vec<_>>>()
        .context("a watcher's receipt is missing")?;
    Ok((acked, latencies))
}

/// The `n`th vehicle lookout of the benchmark, for every peer of A (that is, for B).
fn lookout(n: usize, warm_up: bool) -> PostAlertRequest {
    let now = setu_node::clock::now_ms();
    PostAlertRequest {
        priority: AlertPriority::Flash as i32,
        category: AlertCategory::VehicleLookout as i32,
        title: if warm_up {
            format!("Warm-up lookout {n}: grey pickup towards Barakar")
        } else {
            format!("Bench lookout {n}: grey pickup towards Barakar")
        },
        body: "Grey pickup with a tarpaulin load left Test Nagar after a cash-van robbery; \
               two occupants, one with a bandaged hand."
            .to_string(),
        incident_at_ms: now - 20 * 60 * 1000,
        incident_place: "Test Nagar, near the grain market".to_string(),
        vehicles: vec!["JH 10 ZZ 0042".to_string()],
        warnings: vec![Warning::Armed as i32],
        action_requested: "stop and detain; inform the originating police station".to_string(),
        targets: Vec::new(),
        expires_at_ms: now + 24 * 60 * 60 * 1000,
        ..Default::default()
    }
}

/// One line of latency figures: count, p50, p99 and max, in milliseconds.
fn figures(latencies: &mut [Duration]) -> String {
    latencies.sort();
    format!(
        "count {:>6}  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        latencies.len(),
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        percentile(latencies, 1.0)
    )
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "?".to_string(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

fn summary(
    settings: &Settings,
    outcomes: &mut [Outcome],
    b_hwm: Option<u64>,
    a_mem: (Option<u64>, Option<u64>),
) {
    println!();
    println!("== alerts: post on A ({A}) -> receipt by watchers on B ({B}), mTLS on loopback ==");
    println!(
        "{} posts per scenario after {WARM_UP_POSTS} warm-up posts; sequential: the next post \
         goes out {} ms after every watcher has the previous one",
        settings.posts,
        settings.gap.as_millis()
    );
    println!("both nodes are the real setu-node binary; each watcher has its own mTLS connection");
    let mut worst_p99: f64 = 0.0;
    for outcome in outcomes.iter_mut() {
        let w = outcome.watchers;
        println!();
        println!("-- {w} watcher{} on B --", if w == 1 { "" } else { "s" });
        println!(
            "  post acknowledged on A:      {}",
            figures(&mut outcome.acked)
        );
        if w == 1 {
            println!(
                "  post -> receipt on B:        {}",
                figures(&mut outcome.pairs)
            );
            worst_p99 = worst_p99.max(percentile(&outcome.pairs, 0.99));
        } else {
            println!(
                "  all (post, watcher) pairs:   {}",
                figures(&mut outcome.pairs)
            );
            println!(
                "  first watcher per post:      {}",
                figures(&mut outcome.first)
            );
            println!(
                "  slowest watcher per post:    {}",
                figures(&mut outcome.slowest)
            );
            worst_p99 = worst_p99.max(percentile(&outcome.slowest, 0.99));
        }
        println!("  node B VmRSS after the posts: {}", mib(outcome.b_rss_kib));
    }
    println!();
    println!(
        "node B VmHWM {}; node A VmRSS {}, VmHWM {}",
        mib(b_hwm),
        mib(a_mem.0),
        mib(a_mem.1)
    );
    println!(
        "aim p99 <= {AIM_P99_MS:.0} ms (slowest watcher per post): {} (worst p99 {worst_p99:.2} ms)",
        if worst_p99 <= AIM_P99_MS {
            "met"
        } else {
            "NOT met"
        }
    );
    println!("reproduce: {REPRODUCE}");
    if settings.quick {
        println!("(quick mode: run with `cargo bench` for the full figures)");
    }
}

/// Kills a node process and waits for it to go.
async fn stop(mut node: tokio::process::Child) -> anyhow::Result<()> {
    node.kill().await?;
    Ok(())
}
