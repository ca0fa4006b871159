//! A real headless Chromium, driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`, through fantoccini), for the end-to-end test of `setu console`.
//!
//! The browser is a system package, not a crate: where it is missing a test is skipped with
//! a line saying so, except under `CI=true`, where a missing browser fails the test (`.ci/run`
//! installs it). chromedriver is spoken to over plain HTTP on loopback, so no TLS stack is
//! pulled in beside the workspace's ring-only rustls.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Map, Value};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::mesh::free_port;
use crate::wait::wait_for;

/// Where Debian (and other distributions) put the browser.
const CHROMIUM: &[&str] = &[
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
];

/// Where Debian's `chromium-driver` puts chromedriver.
const CHROMEDRIVER: &[&str] = &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];

/// How long chromedriver may take to listen and the browser to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The flags a headless Chromium needs here: as root (no sandbox), without a GPU, and
/// without its background traffic to hosts that cannot be reached.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
];

/// A running chromedriver with one browser session in a fresh profile.
pub struct Browser {
    client: Client,
    driver: Child,
    _profile: TempDir,
}

/// The first of `candidates` that exists.
fn first_existing(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

impl Browser {
    /// Starts a browser, or returns `None` after printing why the test `name` is skipped
    /// when Chromium or chromedriver is not installed; under `CI=true` that is an error.
    pub async fn start_or_skip(name: &str) -> anyhow::Result<Option<Browser>> {
        let chromium = first_existing(CHROMIUM);
        let driver = first_existing(CHROMEDRIVER);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            let why = "Chromium and chromedriver are not installed \
                       (apt-get install -y chromium chromium-driver)";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                anyhow::bail!("{name}: {why}; under CI=true the browser test must run");
            }
            println!("skipped {name}: {why}");
            return Ok(None);
        };
        Browser::start(&chromium, &driver).await.map(Some)
    }

    /// Starts chromedriver on a free loopback port and opens a headless session.
    async fn start(chromium: &Path, driver: &Path) -> anyhow::Result<Browser> {
        let port = free_port()?;
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", driver.display()))?;
        wait_for(START_TIMEOUT, "chromedriver listens", || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await
        })
        .await?;
        let profile = tempfile::tempdir().context("creating the browser profile")?;
        let mut args: Vec<String> = FLAGS.iter().map(|f| (*f).to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut capabilities = Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_string(),
            json!({ "binary": chromium.to_string_lossy(), "args": args }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            START_TIMEOUT,
            ClientBuilder::new(connector)
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}")),
        )
        .await
        .context("the browser did not start in time")?
        .context("opening a WebDriver session")?;
        Ok(Browser {
            client,
            driver: child,
            _profile: profile,
        })
    }

    /// The WebDriver session.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The text of the first element matching the CSS `selector`, once there is one.
    pub async fn text_of(&self, selector: &str, timeout: Duration) -> anyhow::Result<String> {
        let client = &self.client;
        wait_for(
            timeout,
            &format!("{selector} is on the page"),
            || async move { client.find(Locator::Css(selector)).await?.text().await },
        )
        .await
    }

    /// Waits until the text of the first element matching `selector` contains `needle`.
    pub async fn wait_for_text(
        &self,
        selector: &str,
        needle: &str,
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let client = &self.client;
        wait_for(
            timeout,
            &format!("{selector} shows {needle:?}"),
            || async move {
                let text = client.find(Locator::Css(selector)).await?.text().await?;
                if text.contains(needle) {
                    Ok(text)
                } else {
                    Err(anyhow::anyhow!("it shows {text:?}"))
                }
            },
        )
        .await
    }

    /// Runs `script` in the page and returns its result.
    pub async fn eval(&self, script: &str) -> anyhow::Result<Value> {
        Ok(self.client.execute(script, Vec::new()).await?)
    }

    /// Ends the session and stops chromedriver.
    pub async fn close(mut self) -> anyhow::Result<()> {
        let closed = self.client.clone().close().await;
        let _ = self.driver.kill().await;
        closed.context("closing the browser session")
    }
}
