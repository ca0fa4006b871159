//! The real binaries as child processes: `setu-node` (the district node) and `setu` (the
//! officers' client), and the config files they read.
//!
//! The test executable lives in `target/<profile>/deps`; the binaries are built into
//! `target/<profile>/`. `cargo test --workspace` builds them because the `node` and
//! `client` packages have integration tests (`bin_smoke.rs`); `cargo test -p setu-tests`
//! alone does not, so run `cargo build --bins` first in that case.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context;
use setu_node::config::NodeConfig;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::node::District;
use crate::pki::CertPair;
use serde_json::Value;
use setu_node::trust::identity::Role;

/// The node binary's name.
pub const NODE_BIN: &str = "setu-node";
/// The client binary's name.
pub const CLIENT_BIN: &str = "setu";

/// How long a binary may take to start listening or to finish a command.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// The path of a workspace binary next to the test executable's `deps` folder, or in the
/// folder `SETU_TEST_BIN_DIR` names (for worktrees that share one target folder, whose
/// binaries overwrite each other there).
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the test executable")?;
    let profile_dir = match std::env::var_os("SETU_TEST_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => exe
            .parent()
            .and_then(Path::parent)
            .context("the test executable is not in target/<profile>/deps")?
            .to_path_buf(),
    };
    let path = profile_dir.join(name);
    if !path.is_file() {
        anyhow::bail!(
            "the `{name}` binary is missing at {}: run `cargo build --bins` first \
             (`cargo test --workspace` builds it too)",
            path.display()
        );
    }
    Ok(path)
}

/// A command for a workspace binary with no `SETU_*` variables inherited, so that the test
/// environment cannot override the config files the tests write, and `TZ=UTC`.
fn command(name: &str) -> anyhow::Result<Command> {
    let mut command = Command::new(binary(name)?);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SETU_") {
            command.env_remove(key);
        }
    }
    // Times print in the local zone; the tests read them in UTC unless they set TZ.
    command
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .env("TZ", "UTC");
    Ok(command)
}

/// What a finished process printed.
#[derive(Debug)]
pub struct Finished {
    /// How it ended.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl Finished {
    /// Fails with everything the process printed unless it exited with status 0.
    pub fn success(self) -> anyhow::Result<Finished> {
        if !self.status.success() {
            anyhow::bail!("the command failed ({}):\n{self}", self.status);
        }
        Ok(self)
    }
}

impl std::fmt::Display for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        )
    }
}

/// Runs a binary to completion (within the process timeout).
pub async fn run(name: &str, args: &[&str]) -> anyhow::Result<Finished> {
    run_with(name, args, &[]).await
}

/// Runs a binary to completion with the environment variables `env` set (e.g. `TZ` or
/// `COLUMNS`).
pub async fn run_with(name: &str, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Finished> {
    let mut command = command(name)?;
    command.args(args);
    command.envs(env.iter().copied());
    let output = tokio::time::timeout(PROCESS_TIMEOUT, command.output())
        .await
        .with_context(|| format!("`{name} {}` did not finish in time", args.join(" ")))?
        .with_context(|| format!("running {name}"))?;
    Ok(Finished {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Runs the `setu` client with `--config CONFIG` and `args`.
pub async fn setu(config: &Path, args: &[&str]) -> anyhow::Result<Finished> {
    setu_with(config, args, &[]).await
}

/// Runs the `setu` client with `--config CONFIG`, `args` and the environment `env`.
pub async fn setu_with(
    config: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<Finished> {
    let config = config.to_string_lossy().into_owned();
    let mut all = vec!["--config", config.as_str()];
    all.extend_from_slice(args);
    run_with(CLIENT_BIN, &all, env).await
}

/// Quotes a path as a TOML basic string.
fn toml_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Writes a client config for an officer of the node at `url` (`https://127.0.0.1:PORT`).
pub fn write_client_config(
    path: &Path,
    url: &str,
    ca: &Path,
    officer: &CertPair,
) -> anyhow::Result<()> {
    let text = format!(
        "# Setu client config written by a test.\naddress = \"{url}\"\nca = {}\ncert = {}\nkey = {}\n",
        toml_path(ca),
        toml_path(&officer.cert),
        toml_path(&officer.key)
    );
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Writes `config` as a node TOML file.
pub fn write_node_config(path: &Path, config: &NodeConfig) -> anyhow::Result<()> {
    let text = config.to_toml().context("serialising the node config")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// A `setu-node serve --config FILE` child process that is listening.
pub struct NodeProcess {
    child: Child,
    /// Kept open so that the node never writes into a closed pipe.
    _stdout: Lines<BufReader<ChildStdout>>,
    addr: SocketAddr,
    log: PathBuf,
}

impl NodeProcess {
    /// Starts the node binary and waits (with a deadline) for its
    /// `setu-node <district> listening on <addr>` line; its log goes to `log`.
    pub async fn start(config: &Path, log: &Path) -> anyhow::Result<NodeProcess> {
        let log_file = std::fs::File::create(log).context("creating the node's log file")?;
        let mut command = command(NODE_BIN)?;
        command
            .arg("serve")
            .arg("--config")
            .arg(config)
            .env("SETU_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        let mut child = command.spawn().context("spawning setu-node")?;
        let stdout = child.stdout.take().context("the node's stdout is piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let listening = tokio::time::timeout(PROCESS_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some((_, addr)) = line.split_once(" listening on ") {
                    return Ok::<_, std::io::Error>(Some(addr.trim().to_string()));
                }
            }
            Ok(None)
        })
        .await;
        let addr = match listening {
            Ok(Ok(Some(addr))) => addr,
            other => {
                let _ = child.start_kill();
                let status = child.wait().await.ok();
                let log_text = std::fs::read_to_string(log).unwrap_or_default();
                anyhow::bail!(
                    "setu-node did not report listening ({other:?}, exit {status:?}); its log:\n{log_text}"
                );
            }
        };
        let addr: SocketAddr = addr
            .parse()
            .with_context(|| format!("parsing the listening address {addr:?}"))?;
        Ok(NodeProcess {
            child,
            _stdout: lines,
            addr,
            log: log.to_path_buf(),
        })
    }

    /// The address the node reported.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the node has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGHUP, which makes the node reload its certificate, CAs and deny-list.
    pub fn hangup(&self) -> anyhow::Result<()> {
        let pid = self
            .child
            .id()
            .context("setu-node has already been reaped")?;
        let sent = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .context("running kill -HUP")?;
        anyhow::ensure!(sent.success(), "kill -HUP {pid} failed: {sent}");
        Ok(())
    }

    /// Kills the node with SIGKILL (no chance to flush or clean up) and reaps it.
    pub async fn kill9(mut self) -> anyhow::Result<ExitStatus> {
        self.child.kill().await.context("killing setu-node")?;
        let status = self.child.wait().await.context("reaping setu-node")?;
        Ok(status)
    }
}

/// A `setu-node demo --dir DIR --base-port 0` child process whose two nodes are up.
pub struct DemoProcess {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    banner: Vec<String>,
    log: PathBuf,
}

impl DemoProcess {
    /// Starts the demo in `dir` on two free ports and reads its output (with a deadline)
    /// until the line that says how to stop it ("Ctrl-C ..."); its log goes to `log`.
    pub async fn start(dir: &Path, log: &Path) -> anyhow::Result<DemoProcess> {
        let log_file = std::fs::File::create(log).context("creating the demo's log file")?;
        let mut command = command(NODE_BIN)?;
        command
            .arg("demo")
            .arg("--dir")
            .arg(dir)
            .args(["--base-port", "0"])
            .env("SETU_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        let mut child = command.spawn().context("spawning setu-node demo")?;
        let stdout = child.stdout.take().context("the demo's stdout is piped")?;
        let mut stdout = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let ready = tokio::time::timeout(PROCESS_TIMEOUT, async {
            while let Some(line) = stdout.next_line().await? {
                let done = line.contains("Ctrl-C");
                banner.push(line);
                if done {
                    return Ok::<_, std::io::Error>(true);
                }
            }
            Ok(false)
        })
        .await;
        if !matches!(ready, Ok(Ok(true))) {
            let _ = child.start_kill();
            let status = child.wait().await.ok();
            let log_text = std::fs::read_to_string(log).unwrap_or_default();
            anyhow::bail!(
                "the demo did not get ready ({ready:?}, exit {status:?}); it printed:\n{}\nits log:\n{log_text}",
                banner.join("\n")
            );
        }
        Ok(DemoProcess {
            child,
            stdout,
            banner,
            log: log.to_path_buf(),
        })
    }

    /// What the demo printed up to and including the "Ctrl-C" line.
    pub fn banner(&self) -> &[String] {
        &self.banner
    }

    /// What the demo has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the demo with SIGKILL and reaps it.
    pub async fn kill(mut self) -> anyhow::Result<ExitStatus> {
        self.child.kill().await.context("killing the demo")?;
        self.child.wait().await.context("reaping the demo")
    }

    /// Sends SIGTERM (what Ctrl-C and service managers send) and waits up to `timeout` for
    /// the demo to exit; returns how it ended and what it printed after the banner. When it
    /// does not exit in time it is killed with SIGKILL and an error says so.
    pub async fn terminate(mut self, timeout: Duration) -> anyhow::Result<(ExitStatus, String)> {
        let pid = self
            .child
            .id()
            .context("the demo has already been reaped")?;
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .context("running kill -TERM")?;
        anyhow::ensure!(sent.success(), "kill -TERM {pid} failed: {sent}");
        let mut rest = String::new();
        let ended = tokio::time::timeout(timeout, async {
            while let Ok(Some(line)) = self.stdout.next_line().await {
                rest.push_str(&line);
                rest.push('\n');
            }
            self.child.wait().await
        })
        .await;
        match ended {
            Ok(status) => Ok((status.context("reaping the demo")?, rest)),
            Err(_) => {
                let _ = self.child.kill().await;
                anyhow::bail!(
                    "the demo did not exit within {timeout:?} of SIGTERM (killed with SIGKILL); it printed after the banner:\n{rest}\nits log:\n{}",
                    self.log()
                )
            }
        }
    }
}

/// Writes a client config for a new officer of `district` with `role` (certificate issued
/// by the district's CA) and returns its path.
pub fn officer_config(district: &District, badge: &str, role: Role) -> anyhow::Result<PathBuf> {
    let cert = district.ca.officer(&district.id, badge, role)?;
    let path = district.dir().join(format!("{badge}.toml"));
    write_client_config(&path, &district.node.url(), &district.ca.cert_path(), &cert)?;
    Ok(path)
}

/// Runs `setu` with `--json` and parses its output, failing with everything it printed
/// otherwise.
pub async fn setu_json(config: &Path, args: &[&str]) -> anyhow::Result<Value> {
    let mut all = args.to_vec();
    all.push("--json");
    let finished = setu(config, &all).await?.success()?;
    serde_json::from_str(&finished.stdout).map_err(|e| {
        anyhow::anyhow!(
            "`setu {}` printed no JSON ({e}):\n{finished}",
            args.join(" ")
        )
    })
}

/// The string at `key` of a JSON object, or "" when absent.
pub fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}
