//! Benchmark of bulk import (issue 6): a CSV of 1 000 000 fictional person records imported
//! into one district node through the real `setu import` command, with the client's and the
//! node's peak memory; a second import of the same file (every row unchanged) when asked
//! for; then a backup of the resulting database with `setu-node backup` (time and size,
//! beside the database's size on disk) and a restore of that backup with
//! `setu-node restore`.
//!
//! Run with `cargo build --release --bins && cargo bench -p setu-tests --bench import`.
//! Options through the environment: `SETU_BENCH_IMPORT` sets the number of rows (default
//! 1 000 000); `SETU_BENCH_IMPORT_AGAIN=1` adds the second import; `SETU_BENCH_IMPORT_CACHE_MIB`
//! sets the node's `cache_mib` (default 256); `SETU_BENCH_IMPORT_TIMEOUT_S` the time each
//! command may take (default 7200 s); `SETU_BENCH_NODE_LOG` the node's log filter (default
//! `info`); `SETU_BENCH_DIR` the folder under which the temporary files go (default the
//! system's temporary folder; a million records take a few GB). Without `--bench` (as under
//! `cargo test`) a quick version runs: 2 000 rows, imported twice.
//!
//! Everything measured is a real process: the node is the `setu-node serve` binary, the
//! import the `setu` binary, the backup and restore `setu-node backup` and `restore`, all
//! found next to this benchmark's executable (`target/release` under `cargo bench`). This
//! process only writes the files and watches the others. Generating the CSV is timed on its
//! own and is not part of the import figure, which runs from the start of `setu import` to
//! its exit (connection, reading and parsing the file, sending it, the node's validation,
//! storage and final flush, and the report). Peak memory is `VmHWM` from `/proc`: the
//! client's is sampled every 20 ms while it runs (it only grows, so the last value read is
//! the peak, short of the final 20 ms), the node's is read after each step. All processes
//! share the machine's cores.

use anyhow::{bail, ensure, Context};
use setu_client::words::{Gender, Status, Warning};
use setu_node::config::NodeConfig;
use setu_node::sample::SampleGen;
use setu_node::trust::identity::Role;
use setu_node::trust::pki::{write_issued, Ca, Validity};
use setu_proto::v1::PersonRecord;
use setu_tests::bench::{env_usize, node_binary, proc_status_kib};
use setu_tests::mesh::free_port;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DISTRICT: &str = "jh-dhanbad";
const REPRODUCE: &str = "cargo build --release --bins && cargo bench -p setu-tests --bench import";
/// The columns of the generated file: record field names, as `setu import` reads them.
const HEADER: [&str; 11] = [
    "external_ref",
    "name",
    "name_local",
    "aliases",
    "father_name",
    "gender",
    "birth_year",
    "phones",
    "vehicles",
    "status",
    "warnings",
];
/// How often a running command is checked for its exit and its memory sampled: this
/// bounds the error of a time, and a short command (a re-import of a small file) still gets
/// a few samples. Reading `/proc/<pid>/status` takes microseconds.
const POLL_EVERY: Duration = Duration::from_millis(20);
/// How long the node may take to start listening, and to stop after SIGTERM.
const NODE_DEADLINE: Duration = Duration::from_secs(120);
/// The seed of the sample data, so that every run imports the same file.
const SEED: u64 = 6;

/// What one run measures.
struct Settings {
    rows: usize,
    again: bool,
    cache_mib: u64,
    timeout: Duration,
    node_log: String,
    quick: bool,
}

fn main() -> anyhow::Result<()> {
    let quick = !std::env::args().any(|a| a == "--bench");
    let settings = Settings {
        rows: if quick {
            2_000
        } else {
            env_usize("SETU_BENCH_IMPORT", 1_000_000)
        },
        // The quick run always imports twice: it is cheap and checks the second path too.
        again: quick || std::env::var("SETU_BENCH_IMPORT_AGAIN").is_ok_and(|v| v == "1"),
        cache_mib: env_usize("SETU_BENCH_IMPORT_CACHE_MIB", 256) as u64,
        timeout: Duration::from_secs(env_usize("SETU_BENCH_IMPORT_TIMEOUT_S", 7200) as u64),
        node_log: std::env::var("SETU_BENCH_NODE_LOG").unwrap_or_else(|_| "info".into()),
        quick,
    };
    ensure!(settings.rows > 0, "SETU_BENCH_IMPORT must be at least 1");
    run(&settings)
}

fn run(settings: &Settings) -> anyhow::Result<()> {
    let node_bin = node_binary()?;
    let client_bin = node_bin.with_file_name("setu");
    ensure!(
        client_bin.is_file(),
        "{} is missing: run `cargo build --release --bins` first",
        client_bin.display()
    );
    let dir = match std::env::var_os("SETU_BENCH_DIR") {
        Some(base) => tempfile::tempdir_in(base)?,
        None => tempfile::tempdir()?,
    };
    let root = dir.path();

    // A throwaway CA, the node's certificate and one officer of the district.
    let ca = Ca::generate("Bench Import CA")?;
    ca.save(&root.join("ca"))?;
    let ca_pem = root.join("ca").join("ca.pem");
    let node_cert = ca.issue_node(DISTRICT, &["127.0.0.1".to_string()], Validity::days(2))?;
    write_issued(&root.join("node"), "node", &node_cert)?;
    let officer = ca.issue_officer(
        DISTRICT,
        "JH-4417",
        "Bench Records Clerk Sunita Hembrom",
        Role::Officer,
        Validity::days(2),
    )?;
    write_issued(&root.join("officer"), "officer", &officer)?;

    let port = free_port()?;
    let url = format!("https://127.0.0.1:{port}");
    let data_dir = root.join("node").join("data");
    let mut config = NodeConfig::new(
        DISTRICT,
        data_dir.clone(),
        root.join("node").join("node.pem"),
        root.join("node").join("node.key"),
        vec![setu_tests::node::state_trust(&ca_pem, DISTRICT)],
    );
    config.listen = format!("127.0.0.1:{port}").parse()?;
    config.cache_mib = settings.cache_mib;
    let node_toml = root.join("node").join("node.toml");
    std::fs::write(&node_toml, config.to_toml()?)?;
    let officer_toml = root.join("officer").join("officer.toml");
    std::fs::write(
        &officer_toml,
        format!(
            "address = \"{url}\"\nca = {}\ncert = {}\nkey = {}\n",
            toml_path(&ca_pem),
            toml_path(&root.join("officer").join("officer.pem")),
            toml_path(&root.join("officer").join("officer.key")),
        ),
    )?;

    // The file, generated before anything else runs, so that its cost stays out of the
    // import figure.
    let csv = root.join("people.csv");
    let generated = Instant::now();
    write_csv(&csv, settings.rows)?;
    let generation = generated.elapsed();
    let csv_bytes = std::fs::metadata(&csv)?.len();
    println!(
        "generated {} rows ({}) in {:.1} s",
        settings.rows,
        mib(csv_bytes),
        generation.as_secs_f64()
    );

    let node_log = root.join("node.log");
    let mut node = Node::start(&node_bin, &node_toml, &node_log, &settings.node_log)?;
    let node_start_kib = proc_status_kib(node.pid, "VmRSS:").unwrap_or(0);
    let ticks = clock_ticks();

    // The import that is measured.
    let import_args: [&std::ffi::OsStr; 4] = [
        "--config".as_ref(),
        officer_toml.as_os_str(),
        "import".as_ref(),
        csv.as_os_str(),
    ];
    let cpu_before = cpu_seconds(node.pid, ticks);
    let first = Timed::run(
        command(&client_bin).args(import_args),
        root,
        "import-1",
        settings.timeout,
    )?;
    let first_counts = first.check_import(&node, settings.rows, false)?;
    let node_cpu_first = cpu_seconds(node.pid, ticks) - cpu_before;
    let node_peak_first = proc_status_kib(node.pid, "VmHWM:").unwrap_or(0);
    let node_rss_first = proc_status_kib(node.pid, "VmRSS:").unwrap_or(0);
    println!(
        "import: {} rows in {:.1} s = {:.0} rows/s ({first_counts}); client peak RSS {}; node peak RSS {}",
        settings.rows,
        first.wall.as_secs_f64(),
        rate(settings.rows, first.wall),
        kib(first.peak_kib),
        kib(node_peak_first)
    );

    // The same file again: every row is found by its external_ref and left alone.
    let second = if settings.again {
        let cpu_before = cpu_seconds(node.pid, ticks);
        let again = Timed::run(
            command(&client_bin).args(import_args),
            root,
            "import-2",
            settings.timeout,
        )?;
        let counts = again.check_import(&node, settings.rows, true)?;
        let cpu = cpu_seconds(node.pid, ticks) - cpu_before;
        println!(
            "re-import: {} rows in {:.1} s = {:.0} rows/s ({counts}); client peak RSS {}",
            settings.rows,
            again.wall.as_secs_f64(),
            rate(settings.rows, again.wall),
            kib(again.peak_kib)
        );
        Some((again, counts, cpu))
    } else {
        None
    };
    let node_peak_import = proc_status_kib(node.pid, "VmHWM:").unwrap_or(0);

    // The database as it stands after the import (the import's report comes after the
    // node's flush), then a backup taken while the node serves.
    let db = DiskUse::of(&data_dir)?;
    let backup_file = root.join("backup").join("jh-dhanbad.setu-backup");
    std::fs::create_dir_all(root.join("backup"))?;
    let mut backup_command = command(&node_bin);
    backup_command
        .arg("backup")
        .arg("--config")
        .arg(&node_toml)
        .arg("--out")
        .arg(&backup_file)
        .args(["--address", &url]);
    let backup = Timed::run(&mut backup_command, root, "backup", settings.timeout)?;
    if !backup.status.success() {
        bail!(
            "setu-node backup failed ({}):\n{}\nnode log (end):\n{}",
            backup.status,
            backup.output(),
            node.log_tail()
        );
    }
    let backup_bytes = std::fs::metadata(&backup_file)
        .with_context(|| format!("the backup {} was not written", backup_file.display()))?
        .len();
    let node_peak_backup = proc_status_kib(node.pid, "VmHWM:").unwrap_or(0);
    let node_rss_end = proc_status_kib(node.pid, "VmRSS:").unwrap_or(0);
    println!(
        "backup: {} in {:.1} s ({}/s); database on disk {}",
        mib(backup_bytes),
        backup.wall.as_secs_f64(),
        mib((backup_bytes as f64 / backup.wall.as_secs_f64().max(1e-9)) as u64),
        mib(db.apparent)
    );
    let stopped_in = node.stop()?;

    // A restore into a new folder, as after losing the node's disk; it needs no node.
    let restored_dir = root.join("restored");
    let mut restore_command = command(&node_bin);
    restore_command
        .arg("restore")
        .arg("--from")
        .arg(&backup_file)
        .arg("--data-dir")
        .arg(&restored_dir);
    let restore = Timed::run(&mut restore_command, root, "restore", settings.timeout)?;
    if !restore.status.success() {
        bail!(
            "setu-node restore failed ({}):\n{}",
            restore.status,
            restore.output()
        );
    }
    let restored = DiskUse::of(&restored_dir)?;
    println!(
        "restore: {:.1} s, restored database {}",
        restore.wall.as_secs_f64(),
        mib(restored.apparent)
    );

    let rows = settings.rows;
    let mut summary = vec![
        format!("Setu import benchmark (issue 6): {rows} rows, one node ({DISTRICT}), node cache_mib = {}", settings.cache_mib),
        format!(
            "  CSV file                 {} ({:.0} bytes/row), generated in {:.1} s (not counted below)",
            mib(csv_bytes),
            csv_bytes as f64 / rows as f64,
            generation.as_secs_f64()
        ),
        format!(
            "  import (setu import)     {:.1} s wall = {:.0} rows/s; {first_counts}",
            first.wall.as_secs_f64(),
            rate(rows, first.wall)
        ),
        format!(
            "    client peak RSS        {} (VmHWM sampled every {} ms); client CPU ~{:.1} s",
            kib(first.peak_kib),
            POLL_EVERY.as_millis(),
            first.cpu_seconds
        ),
        format!(
            "    node peak RSS          {} (VmHWM; {} after start-up); RSS after import {}; node CPU {:.1} s",
            kib(node_peak_first),
            kib(node_start_kib),
            kib(node_rss_first),
            node_cpu_first
        ),
    ];
    if let Some(last) = first.progress.last() {
        summary.push(format!("    client's last progress line: {last}"));
    }
    match &second {
        Some((again, counts, cpu)) => {
            summary.push(format!(
                "  re-import (same file)    {:.1} s wall = {:.0} rows/s; {counts}",
                again.wall.as_secs_f64(),
                rate(rows, again.wall)
            ));
            summary.push(format!(
                "    client peak RSS        {}; node peak RSS over both imports {}; node CPU {:.1} s",
                kib(again.peak_kib),
                kib(node_peak_import),
                cpu
            ));
        }
        None => summary
            .push("  re-import (same file)    not run (set SETU_BENCH_IMPORT_AGAIN=1)".to_string()),
    }
    summary.extend([
        format!(
            "  database on disk         {} apparent, {} allocated ({:.0} bytes/record)",
            mib(db.apparent),
            mib(db.allocated),
            db.apparent as f64 / rows as f64
        ),
        format!(
            "  backup (setu-node backup) {:.1} s wall, file {} ({:.0}% of the database); node peak RSS afterwards {}, RSS {}",
            backup.wall.as_secs_f64(),
            mib(backup_bytes),
            backup_bytes as f64 * 100.0 / db.apparent.max(1) as f64,
            kib(node_peak_backup),
            kib(node_rss_end)
        ),
        format!(
            "    backup command peak RSS {}",
            kib(backup.peak_kib)
        ),
        format!(
            "  restore (setu-node restore) {:.1} s wall, restored database {} apparent; restore peak RSS {}",
            restore.wall.as_secs_f64(),
            mib(restored.apparent),
            kib(restore.peak_kib)
        ),
        format!("  node stopped (SIGTERM) in {:.1} s", stopped_in.as_secs_f64()),
        format!("  reproduce: {REPRODUCE}"),
    ]);
    if settings.quick {
        summary.push("  (quick mode: run with `cargo bench` for the full figures)".to_string());
    }
    println!("\n{}", summary.join("\n"));
    Ok(())
}

/// Writes `rows` fictional records as CSV, one row at a time.
fn write_csv(path: &Path, rows: usize) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(out, "{}", HEADER.join(","))?;
    let mut sample = SampleGen::new(SEED);
    let mut line = String::with_capacity(512);
    for row in 1..=rows {
        let record = sample.person(DISTRICT);
        line.clear();
        csv_row(&mut line, row, &record);
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// One record as a CSV line (without its end), in the order of [`HEADER`]. The
/// external_ref is the row's own, so that every row is unique whatever the generator does.
fn csv_row(line: &mut String, row: usize, record: &PersonRecord) {
    let words = |values: &[i32]| {
        values
            .iter()
            .filter_map(|w| Warning::from_proto(*w))
            .map(Warning::word)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let birth_year = if record.birth_year == 0 {
        String::new()
    } else {
        record.birth_year.to_string()
    };
    let cells = [
        format!("DHN-{row:07}"),
        record.name.clone(),
        record.name_local.clone(),
        list(&record.aliases),
        record.father_name.clone(),
        Gender::from_proto(record.gender)
            .map(Gender::word)
            .unwrap_or_default()
            .to_string(),
        birth_year,
        list(&record.phones),
        list(&record.vehicles),
        Status::from_proto(record.status)
            .map(Status::word)
            .unwrap_or_default()
            .to_string(),
        words(&record.warnings),
    ];
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_cell(line, cell);
    }
}

/// A multi-valued cell: values separated by "; ", with `\` escaping a `\` or `;` inside a
/// value, as `setu import` reads it.
fn list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| v.replace('\\', "\\\\").replace(';', "\\;"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Appends a CSV cell, quoted when it holds a comma, a quote or a line break.
fn push_cell(line: &mut String, cell: &str) {
    if cell.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&cell.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(cell);
    }
}

/// Quotes a path as a TOML basic string.
fn toml_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A command for a workspace binary without the `SETU_*` variables of this process, so that
/// the benchmark's own settings never reach the node or the client as overrides.
fn command(binary: &Path) -> Command {
    let mut command = Command::new(binary);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SETU_") {
            command.env_remove(key);
        }
    }
    command.stdin(Stdio::null());
    command
}

/// The node: a `setu-node serve --config FILE` child process that is listening.
struct Node {
    child: Child,
    pid: u32,
    log: PathBuf,
}

impl Node {
    /// Starts the node and waits for its `setu-node <district> listening on <addr>` line.
    fn start(binary: &Path, config: &Path, log: &Path, filter: &str) -> anyhow::Result<Node> {
        let mut child = command(binary)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .env("SETU_LOG", filter)
            .stdout(Stdio::piped())
            .stderr(File::create(log)?)
            .spawn()
            .context("spawning setu-node")?;
        let pid = child.id();
        let stdout = child.stdout.take().context("the node's stdout is piped")?;
        let (listening, heard) = mpsc::channel();
        // The thread keeps reading the node's output to its end, so that the node never
        // writes into a closed pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains(" listening on ") {
                    let _ = listening.send(line);
                }
            }
        });
        let mut node = Node {
            child,
            pid,
            log: log.to_path_buf(),
        };
        match heard.recv_timeout(NODE_DEADLINE) {
            Ok(line) => println!("{line}"),
            Err(_) => {
                let status = node.child.try_wait()?;
                bail!(
                    "setu-node did not report listening within {NODE_DEADLINE:?} (exit {status:?}); its log:\n{}",
                    node.log_tail()
                );
            }
        }
        Ok(node)
    }

    /// The last lines of the node's log.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Stops the node with SIGTERM (a graceful shutdown with a final flush) and returns how
    /// long it took.
    fn stop(&mut self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .context("running kill -TERM")?;
        ensure!(sent.success(), "kill -TERM {} failed: {sent}", self.pid);
        while started.elapsed() < NODE_DEADLINE {
            if let Some(status) = self.child.try_wait()? {
                ensure!(
                    status.success(),
                    "setu-node exited with {status} after SIGTERM; its log:\n{}",
                    self.log_tail()
                );
                return Ok(started.elapsed());
            }
            std::thread::sleep(POLL_EVERY); // sleep-ok: poll interval while the node stops
        }
        bail!("setu-node did not stop within {NODE_DEADLINE:?} of SIGTERM")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A command run to its end, with its wall time and peak memory.
struct Timed {
    status: ExitStatus,
    wall: Duration,
    /// The highest `VmHWM` read while it ran, in KiB.
    peak_kib: u64,
    /// Its CPU time (user and system) at the last sample, in seconds.
    cpu_seconds: f64,
    stdout: String,
    stderr: String,
    /// The progress lines of `setu import` (standard error).
    progress: Vec<String>,
}

impl Timed {
    /// Runs `command` with its output going to files under `dir` named after `name`,
    /// sampling its memory every [`POLL_EVERY`]; kills it after `timeout`.
    fn run(
        command: &mut Command,
        dir: &Path,
        name: &str,
        timeout: Duration,
    ) -> anyhow::Result<Timed> {
        let out_path = dir.join(format!("{name}.stdout"));
        let err_path = dir.join(format!("{name}.stderr"));
        let ticks = clock_ticks();
        let started = Instant::now();
        let mut child = command
            .stdout(File::create(&out_path)?)
            .stderr(File::create(&err_path)?)
            .spawn()
            .with_context(|| format!("spawning {name}"))?;
        let pid = child.id();
        let mut peak_kib = 0;
        let mut cpu = 0.0;
        let status = loop {
            // Sampled before the exit check, so that a process that has just exited is read
            // once more before it is reaped: its CPU time is then final, while its memory
            // figures are gone (the last ones read are kept).
            if let Some(kib) = proc_status_kib(pid, "VmHWM:") {
                peak_kib = peak_kib.max(kib);
            }
            cpu = cpu_seconds(pid, ticks).max(cpu);
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if started.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                bail!("{name} did not finish within {timeout:?}");
            }
            std::thread::sleep(POLL_EVERY); // sleep-ok: poll interval of the exit check
        };
        let wall = started.elapsed();
        let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        let progress = stderr
            .lines()
            .filter(|l| l.starts_with("import: "))
            .map(str::to_string)
            .collect();
        Ok(Timed {
            status,
            wall,
            peak_kib,
            cpu_seconds: cpu,
            stdout,
            stderr,
            progress,
        })
    }

    /// What it printed, shortened to the first and last lines of each stream.
    fn output(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            ends(&self.stdout),
            ends(&self.stderr)
        )
    }

    /// Checks that `setu import` succeeded with the counts expected of a first import (all
    /// rows new) or a second one (all rows unchanged), and returns them.
    fn check_import(&self, node: &Node, rows: usize, again: bool) -> anyhow::Result<Counts> {
        let counts = self.stdout.lines().next().and_then(Counts::parse);
        let rows = rows as u64;
        let expected = if again {
            Counts {
                created: 0,
                updated: 0,
                unchanged: rows,
                rejected: 0,
            }
        } else {
            Counts {
                created: rows,
                updated: 0,
                unchanged: 0,
                rejected: 0,
            }
        };
        if !self.status.success() || counts != Some(expected) {
            bail!(
                "setu import ({}) did not report {expected} ({}; read: {counts:?}):\n{}\nnode log (end):\n{}",
                if again { "second" } else { "first" },
                self.status,
                self.output(),
                node.log_tail()
            );
        }
        Ok(expected)
    }
}

/// The first and last 20 lines of `text`.
fn ends(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= 40 {
        return text.to_string();
    }
    format!(
        "{}\n... {} lines ...\n{}",
        lines[..20].join("\n"),
        lines.len() - 40,
        lines[lines.len() - 20..].join("\n")
    )
}

/// The counts of `setu import`'s summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    created: u64,
    updated: u64,
    unchanged: u64,
    rejected: u64,
}

impl Counts {
    /// Reads "imported N new, N updated, N unchanged, N rejected".
    fn parse(line: &str) -> Option<Counts> {
        let rest = line.strip_prefix("imported ")?;
        let mut numbers = rest.split(", ").map(|part| {
            let (n, _) = part.split_once(' ')?;
            n.parse::<u64>().ok()
        });
        let mut next = || numbers.next().flatten();
        Some(Counts {
            created: next()?,
            updated: next()?,
            unchanged: next()?,
            rejected: next()?,
        })
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} new, {} updated, {} unchanged, {} rejected",
            self.created, self.updated, self.unchanged, self.rejected
        )
    }
}

/// The size of a folder's files: their lengths, and the space allocated to them.
struct DiskUse {
    apparent: u64,
    allocated: u64,
}

impl DiskUse {
    fn of(dir: &Path) -> anyhow::Result<DiskUse> {
        use std::os::unix::fs::MetadataExt;
        let mut total = DiskUse {
            apparent: 0,
            allocated: 0,
        };
        let mut folders = vec![dir.to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder)
                .with_context(|| format!("listing {}", folder.display()))?
            {
                let entry = entry?;
                let meta = entry.metadata()?;
                if meta.is_dir() {
                    folders.push(entry.path());
                } else {
                    total.apparent += meta.len();
                    total.allocated += meta.blocks() * 512;
                }
            }
        }
        Ok(total)
    }
}

/// The kernel's clock ticks per second, in which `/proc/<pid>/stat` counts CPU time.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A process's CPU time so far (user and system), in seconds; 0 when it cannot be read.
fn cpu_seconds(pid: u32, ticks: f64) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The fields after the command name, which is in parentheses and may hold spaces:
    // utime and stime are the 14th and 15th fields of the line, so the 12th and 13th here.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / ticks
}

/// Rows per second.
fn rate(rows: usize, elapsed: Duration) -> f64 {
    rows as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// Bytes as MiB.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// KiB as MiB.
fn kib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
