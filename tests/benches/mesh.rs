//! Benchmark of the simulated national mesh (issue 12): N districts in one process, five
//! states with their own CAs, each district peering with its 3–6 nearest neighbours over
//! real mutual TLS, small caches. For each N it measures how long a FEDERATION record
//! created at the mesh's edge takes to be readable at every node (p50/p99), the same for
//! its expunge, how long a node that was down during 200 changes takes to converge after
//! its restart, and idle CPU and RSS per node before and after the mesh holds 2 000 more
//! records; then how each figure grows from the smallest N to the largest.
//!
//! Run with `cargo bench -p setu-tests --bench mesh`. Knobs:
//! `SETU_BENCH_MESH_SIZES` (default `25,50,100`), `SETU_BENCH_MESH_RECORDS` (records timed
//! per size, default 20), `SETU_BENCH_MESH_DOWN` (changes made while a node is down,
//! default 200), `SETU_BENCH_MESH_LOAD` (extra records for the second idle window, default
//! 2 000), `SETU_BENCH_MESH_IDLE_SECS` (idle window, default 10), `SETU_BENCH_MESH_SEED`.
//! Each size runs in a child process of its own (the bench re-runs itself with
//! `SETU_BENCH_MESH_ONE=N`), so that the process CPU and RSS figures are that mesh's alone.
//! Under `cargo test --benches` it runs one quick round of 10 nodes in-process.
//!
//! "Readable" is judged on each node's storage, woken by its change notifications, rather
//! than by polling `Get` over gRPC at N nodes: the storage read is what `Get` serves, and
//! polling would load the machine whose latency is being measured.

use std::io::BufRead;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::future::join_all;
use serde_json::{json, Value};
use setu_node::sample::SampleGen;
use setu_node::storage::Storage;
use setu_proto::v1::{CreateRecordRequest, DeleteRecordRequest, Handling, PersonRecord};
use setu_tests::bench::{env_usize, percentile, proc_status_kib, process_cpu};
use setu_tests::national::{holds_record, NationalMap};
use setu_tests::{sample_record, Officer, Role};

/// How long one change may take to reach every node before the bench gives up.
const SPREAD_TIMEOUT: Duration = Duration::from_secs(300);
/// The number of states the districts are grouped in.
const STATES: usize = 5;
/// The marker of the line a child process reports its figures on.
const RESULT: &str = "mesh-result ";

/// The knobs of one run.
#[derive(Clone, Copy)]
struct Knobs {
    records: usize,
    down_changes: usize,
    load: usize,
    idle: Duration,
    seed: u64,
}

fn main() -> anyhow::Result<()> {
    let quick = !std::env::args().any(|a| a == "--bench");
    // A hundred nodes warn about their short-lived test certificates; errors only, unless
    // SETU_BENCH_LOG says otherwise.
    let filter = std::env::var("SETU_BENCH_LOG").unwrap_or_else(|_| "error".to_string());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
    setu_tests::init();
    let knobs = if quick {
        Knobs {
            records: 3,
            down_changes: 10,
            load: 50,
            idle: Duration::from_secs(1),
            seed: 7,
        }
    } else {
        Knobs {
            records: env_usize("SETU_BENCH_MESH_RECORDS", 20),
            down_changes: env_usize("SETU_BENCH_MESH_DOWN", 200),
            load: env_usize("SETU_BENCH_MESH_LOAD", 2000),
            idle: Duration::from_secs(env_usize("SETU_BENCH_MESH_IDLE_SECS", 10) as u64),
            seed: env_usize("SETU_BENCH_MESH_SEED", 7) as u64,
        }
    };
    if quick {
        let figures = run_in_process(10, knobs)?;
        print_table(&[figures]);
        return Ok(());
    }
    if let Some(size) = std::env::var("SETU_BENCH_MESH_ONE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        let figures = run_in_process(size, knobs)?;
        println!("{RESULT}{figures}");
        return Ok(());
    }
    let sizes: Vec<usize> = std::env::var("SETU_BENCH_MESH_SIZES")
        .unwrap_or_else(|_| "25,50,100".to_string())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .context("SETU_BENCH_MESH_SIZES: numbers, comma-separated")
        })
        .collect::<anyhow::Result<_>>()?;
    let mut all = Vec::new();
    for size in sizes {
        match run_child(size) {
            Ok(figures) => all.push(figures),
            Err(e) => eprintln!("mesh of {size}: {e:#}"),
        }
    }
    print_table(&all);
    Ok(())
}

/// Runs one size in a child process and returns the figures it reports.
fn run_child(size: usize) -> anyhow::Result<Value> {
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .arg("--bench")
        .env("SETU_BENCH_MESH_ONE", size.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting the child of one mesh size")?;
    let stdout = child.stdout.take().context("the child's stdout")?;
    let mut figures = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        match line.strip_prefix(RESULT) {
            Some(text) => figures = Some(serde_json::from_str(text)?),
            None => println!("{line}"),
        }
    }
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "the child ended with {status}");
    figures.context("the child reported no figures")
}

fn run_in_process(size: usize, knobs: Knobs) -> anyhow::Result<Value> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(size, knobs))
}

/// The process's resident set, in MiB.
fn rss_mib() -> f64 {
    proc_status_kib(std::process::id(), "VmRSS:").unwrap_or(0) as f64 / 1024.0
}

/// Waits until no node reports any origin behind on any link (the copies each neighbour
/// still sends of changes a node already holds are drained), and returns how long that took.
async fn quiet(
    federations: &[std::sync::Arc<setu_node::federation::Federation>],
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    setu_tests::wait::wait_until(SPREAD_TIMEOUT, "no node is behind on any link", || {
        let behind = federations.iter().any(|federation| {
            federation.peer_statuses().map_or(true, |peers| {
                peers
                    .iter()
                    .any(|p| p.origin_lags.iter().any(|lag| lag.behind > 0))
            })
        });
        async move { !behind }
    })
    .await?;
    Ok(started.elapsed())
}

/// CPU used by the whole process over an idle window, as a percentage of one core per node.
async fn idle_cpu_per_node(window: Duration, nodes: usize) -> anyhow::Result<f64> {
    let before = process_cpu(std::process::id())?;
    tokio::time::sleep(window).await; // sleep-ok: the idle window being measured, not a wait for a condition
    let used = process_cpu(std::process::id())? - before;
    Ok(used.as_secs_f64() / window.as_secs_f64() / nodes as f64 * 100.0)
}

/// Waits until `accept` holds on every storage, each checked after each of its own
/// flushes, and returns how long after `since` each one got there (in `storages`' order).
async fn spread(
    storages: &[Storage],
    since: Instant,
    what: &str,
    accept: impl Fn(&Storage) -> bool,
) -> anyhow::Result<Vec<Duration>> {
    let accept = &accept;
    let arrivals = join_all(storages.iter().map(|storage| async move {
        let mut changed = storage.subscribe();
        loop {
            changed.borrow_and_update();
            if accept(storage) {
                return Ok(since.elapsed());
            }
            changed.changed().await?;
        }
    }));
    let arrivals: Vec<anyhow::Result<Duration>> = tokio::time::timeout(SPREAD_TIMEOUT, arrivals)
        .await
        .with_context(|| format!("timed out waiting until {what}"))?;
    arrivals.into_iter().collect()
}

/// Whether `storage` holds the signing keys of all `districts` districts of the mesh.
fn knows_every_key(storage: &Storage, districts: usize) -> bool {
    let Ok(statements) = storage.key_statements() else {
        return false;
    };
    let origins: std::collections::HashSet<String> = statements
        .into_iter()
        .map(|(origin, _, _)| origin)
        .collect();
    origins.len() >= districts
}

/// The last arrival of a spread.
fn last_arrival(arrivals: &[Duration]) -> Duration {
    arrivals.iter().copied().max().unwrap_or_default()
}

/// For a spread that took much longer than the typical one, where the time went: the
/// latest arrival at each hop distance from the origin, so that a slow link (one late hop)
/// is told apart from a slow mesh (every hop a little late).
fn explain_slow_spread(what: &str, arrivals: &[Duration], hops: &[Option<usize>]) {
    let mut by_hop: std::collections::BTreeMap<usize, Duration> = Default::default();
    for (arrival, hop) in arrivals.iter().zip(hops) {
        let latest = by_hop.entry(hop.unwrap_or(usize::MAX)).or_default();
        *latest = (*latest).max(*arrival);
    }
    let steps: Vec<String> = by_hop
        .iter()
        .map(|(hop, at)| format!("{hop}:{:.0}", at.as_secs_f64() * 1000.0))
        .collect();
    eprintln!(
        "  slow {what}: latest arrival (ms) by hop {}",
        steps.join(" ")
    );
}

async fn create(officer: &Officer, record: PersonRecord) -> anyhow::Result<PersonRecord> {
    Ok(officer
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await?
        .into_inner())
}

fn federation_record(name: &str) -> PersonRecord {
    let mut record = sample_record(name);
    record.handling = Handling::Federation as i32;
    record
}

/// Ready-made records of `origin` for a bulk load, as the import path completes them.
fn bulk_records(sample: &mut SampleGen, origin: &str, count: usize) -> Vec<PersonRecord> {
    let now = setu_node::clock::now_ms();
    (0..count)
        .map(|_| {
            let mut r = sample.person(origin);
            r.id = uuid::Uuid::now_v7().to_string();
            r.origin = origin.to_string();
            r.version = 1;
            r.handling = Handling::Federation as i32;
            r.external_ref.clear();
            r.photos.clear();
            r.created_at_ms = now;
            r.updated_at_ms = now;
            r.created_by = "BENCH-1".to_string();
            r.updated_by = "BENCH-1".to_string();
            r
        })
        .collect()
}

fn p50_p99(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

async fn run(size: usize, knobs: Knobs) -> anyhow::Result<Value> {
    let map = NationalMap::generate(size, STATES, knobs.seed);
    eprintln!("mesh of {size}: {}", map.summary());
    let edge = map.edge();
    let origin = map.district(edge).to_string();

    let started = Instant::now();
    let mut mesh = map.start().await?;
    let start_secs = started.elapsed().as_secs_f64();
    // Every link up before anything is timed.
    let links_up = Instant::now();
    for i in 0..size {
        let federation = mesh.node(map.district(i)).federation().clone();
        for j in map.neighbours(i) {
            let peer = map.district(j).to_string();
            setu_tests::wait::wait_until(
                SPREAD_TIMEOUT,
                &format!("{} has a sync stream from {peer}", map.district(i)),
                || {
                    let connected = federation.status.get(&peer).connected;
                    async move { connected }
                },
            )
            .await?;
        }
    }
    let links_secs = links_up.elapsed().as_secs_f64();
    let all: Vec<Storage> = (0..size)
        .map(|i| mesh.node(map.district(i)).storage().clone())
        .collect();
    // A new mesh first tells every node every district's signing key; a record created
    // before that has settled waits behind it, so it is timed separately.
    let settling = Instant::now();
    let settled = last_arrival(
        &spread(
            &all,
            settling,
            "every node knows every district's key",
            |s| knows_every_key(s, size),
        )
        .await?,
    );
    eprintln!(
        "  started {size} nodes in {start_secs:.1} s; every link up {links_secs:.1} s later; every key everywhere {:.1} s after that; RSS {:.0} MiB",
        settled.as_secs_f64(),
        rss_mib()
    );
    let admin = mesh.officer(&origin, "SA-BENCH-1", Role::Admin).await?;
    let hops = map.hops_from(edge);

    // A record created at the edge, until it is readable everywhere; then its expunge.
    let mut created = Vec::new();
    let mut create_times = Vec::new();
    for k in 0..knobs.records {
        tracing::info!(k, "creating a timed record");
        let since = Instant::now();
        let record = create(&admin, federation_record(&format!("Test Mesh Person {k}"))).await?;
        let id = record.id.clone();
        let arrivals = spread(&all, since, "a record is everywhere", |s| {
            holds_record(s, &id)
        })
        .await?;
        let took = last_arrival(&arrivals);
        if took > Duration::from_secs(2) {
            explain_slow_spread(
                &format!(
                    "record {k}, created {:.1} s after the nodes started",
                    since.duration_since(started).as_secs_f64()
                ),
                &arrivals,
                &hops,
            );
        }
        create_times.push(took);
        created.push(id);
    }
    let mut expunge_times = Vec::new();
    for id in &created {
        let since = Instant::now();
        admin
            .records()
            .delete(DeleteRecordRequest {
                id: id.clone(),
                reason: "bench: test record".to_string(),
                expected_version: 0,
            })
            .await?;
        let arrivals = spread(&all, since, "an expunge is everywhere", |s| {
            !holds_record(s, id)
        })
        .await?;
        let took = last_arrival(&arrivals);
        if took > Duration::from_secs(2) {
            explain_slow_spread("expunge", &arrivals, &hops);
        }
        expunge_times.push(took);
    }
    let (create_p50, create_p99) = p50_p99(create_times);
    let (expunge_p50, expunge_p99) = p50_p99(expunge_times);
    eprintln!(
        "  edge record everywhere: p50 {create_p50:.0} ms, p99 {create_p99:.0} ms; expunge: p50 {expunge_p50:.0} ms, p99 {expunge_p99:.0} ms"
    );

    // A node down during many changes, made at four other districts, then restarted.
    let down = (0..size)
        .max_by_key(|&i| (hops[i], i))
        .expect("a map has districts");
    let down_id = map.district(down).to_string();
    let writers: Vec<usize> = [
        edge,
        (edge + size / 4) % size,
        (edge + size / 2) % size,
        (edge + 3 * size / 4) % size,
    ]
    .into_iter()
    .filter(|&w| w != down)
    .collect();
    let mut officers = Vec::new();
    for (n, &w) in writers.iter().enumerate() {
        officers.push(
            mesh.officer(map.district(w), &format!("W-{}", n + 1), Role::Officer)
                .await?,
        );
    }
    // The node's data folder stays locked while any handle on its storage is alive.
    drop(all);
    mesh.node_mut(&down_id).stop().await?;
    let changes_started = Instant::now();
    let mut last_of_writer = vec![String::new(); writers.len()];
    let mut create_calls = Vec::new();
    for c in 0..knobs.down_changes {
        let w = c % writers.len();
        let call = Instant::now();
        let record = create(
            &officers[w],
            federation_record(&format!("Test Mesh Change {c}")),
        )
        .await?;
        create_calls.push(call.elapsed());
        last_of_writer[w] = record.id;
    }
    let creating = changes_started.elapsed();
    let (call_p50, call_p99) = p50_p99(create_calls);
    let running: Vec<Storage> = (0..size)
        .filter(|&i| i != down)
        .map(|i| mesh.node(map.district(i)).storage().clone())
        .collect();
    let last = last_of_writer.clone();
    let spread_down = last_arrival(
        &spread(
            &running,
            changes_started,
            "the changes reach every running node",
            |s| last.iter().all(|id| holds_record(s, id)),
        )
        .await?,
    );
    drop(running);
    let restarted = Instant::now();
    mesh.node_mut(&down_id).start_again().await?;
    let back_secs = restarted.elapsed().as_secs_f64();
    let storage = mesh.node(&down_id).storage().clone();
    let converge = last_arrival(
        &spread(&[storage], restarted, "the restarted node converges", |s| {
            last.iter().all(|id| holds_record(s, id))
        })
        .await?,
    );
    eprintln!(
        "  {} changes while {down_id} ({} hops from the edge) was down (made one after another in {:.1} s, Create p50 {call_p50:.0} ms, p99 {call_p99:.0} ms) reached the other {} nodes in {:.1} s; after its restart it served again in {back_secs:.2} s and converged in {:.2} s",
        knobs.down_changes,
        hops[down].unwrap_or(0),
        creating.as_secs_f64(),
        size - 1,
        spread_down.as_secs_f64(),
        converge.as_secs_f64()
    );
    let all: Vec<Storage> = (0..size)
        .map(|i| mesh.node(map.district(i)).storage().clone())
        .collect();

    // Idle, then idle again once the mesh holds `load` more records; each window starts
    // once every link has drained.
    let federations: Vec<_> = (0..size)
        .map(|i| mesh.node(map.district(i)).federation().clone())
        .collect();
    quiet(&federations).await?;
    let idle_cpu = idle_cpu_per_node(knobs.idle, size).await?;
    let rss = rss_mib();
    let loaders: Vec<usize> = (0..STATES.min(size)).map(|s| s * size / STATES).collect();
    let mut sample = SampleGen::new(knobs.seed);
    let load_started = Instant::now();
    let mut expected = Vec::new();
    for (n, &l) in loaders.iter().enumerate() {
        let district = map.district(l);
        let count = knobs.load / loaders.len() + usize::from(n < knobs.load % loaders.len());
        let storage = mesh.node(district).storage();
        let records = bulk_records(&mut sample, district, count);
        for chunk in records.chunks(500) {
            storage.put_new_records(chunk)?;
        }
        storage.flush().await?;
        // Each origin's log travels in order, so its last record arrives last.
        expected.extend(records.last().map(|r| r.id.clone()));
    }
    let loaded = last_arrival(
        &spread(
            &all,
            load_started,
            "the extra records are everywhere",
            |s| expected.iter().all(|id| holds_record(s, id)),
        )
        .await?,
    );
    let drained = quiet(&federations).await?;
    let loaded_cpu = idle_cpu_per_node(knobs.idle, size).await?;
    let loaded_rss = rss_mib();
    eprintln!(
        "  {} extra records reached all {size} nodes in {:.1} s (every link drained {:.1} s later); idle CPU per node {idle_cpu:.2} % of a core before, {loaded_cpu:.2} % after; RSS per node {:.1} MiB before, {:.1} MiB after",
        knobs.load,
        loaded.as_secs_f64(),
        drained.as_secs_f64(),
        rss / size as f64,
        loaded_rss / size as f64
    );
    let figures = json!({
        "nodes": size,
        "links": map.links.len(),
        "farthest_hops": map.farthest_hops(edge),
        "start_s": start_secs,
        "keys_settled_s": settled.as_secs_f64(),
        "create_p50_ms": create_p50,
        "create_p99_ms": create_p99,
        "expunge_p50_ms": expunge_p50,
        "expunge_p99_ms": expunge_p99,
        "down_changes": knobs.down_changes,
        "restart_converge_s": converge.as_secs_f64(),
        "idle_cpu_pct_per_node": idle_cpu,
        "idle_cpu_pct_per_node_loaded": loaded_cpu,
        "rss_mib_per_node": rss / size as f64,
        "rss_mib_per_node_loaded": loaded_rss / size as f64,
        "load": knobs.load,
        "load_spread_s": loaded.as_secs_f64(),
        "load_drained_s": drained.as_secs_f64(),
    });
    drop(mesh);
    Ok(figures)
}

/// The table of every size's figures, and how each grew from the first size to the last.
fn print_table(all: &[Value]) {
    let columns: [(&str, &str); 14] = [
        ("nodes", "nodes"),
        ("links", "links"),
        ("farthest_hops", "hops"),
        ("start_s", "start s"),
        ("keys_settled_s", "keys settled s"),
        ("create_p50_ms", "create p50 ms"),
        ("create_p99_ms", "create p99 ms"),
        ("expunge_p50_ms", "expunge p50 ms"),
        ("expunge_p99_ms", "expunge p99 ms"),
        ("restart_converge_s", "restart converge s"),
        ("idle_cpu_pct_per_node", "idle CPU %/node"),
        ("idle_cpu_pct_per_node_loaded", "idle CPU %/node +load"),
        ("rss_mib_per_node", "RSS MiB/node"),
        ("rss_mib_per_node_loaded", "RSS MiB/node +load"),
    ];
    let number = |v: &Value, key: &str| v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN);
    println!();
    println!("{}", columns.map(|(_, h)| h).join(" | "));
    for figures in all {
        let row: Vec<String> = columns
            .iter()
            .map(|(key, _)| format!("{:.2}", number(figures, key)))
            .collect();
        println!("{}", row.join(" | "));
    }
    if let (Some(first), Some(last)) = (all.first(), all.last()) {
        if all.len() > 1 {
            println!(
                "growth from {} to {} nodes ({:.1}x the nodes):",
                number(first, "nodes"),
                number(last, "nodes"),
                number(last, "nodes") / number(first, "nodes")
            );
            for (key, heading) in &columns[3..] {
                println!(
                    "  {heading}: {:.2} -> {:.2} ({:.2}x)",
                    number(first, key),
                    number(last, key),
                    number(last, key) / number(first, key)
                );
            }
        }
    }
}
