//! `setu-client`: the officers' command-line client for Setu, as a library so that the
//! end-to-end tests can reuse its configuration loading, connection and error explanations.
//!
//! The binary `setu` is a thin wrapper around [`run`].
#![forbid(unsafe_code)]

pub mod alerts;
pub mod apply;
pub mod audit;
pub mod cli;
pub mod config;
pub mod connect;
pub mod console;
mod districts;
pub mod error;
pub mod explain;
pub mod export;
mod identity;
pub mod import;
pub mod input;
mod linked;
pub mod mo;
pub mod output;
mod overdue;
pub mod parse;
pub mod peers;
pub mod photos;
mod plain;
pub mod probe;
pub mod progress;
pub mod records;
pub mod render;
pub mod search;
pub mod table;
pub mod view;
pub mod when;
mod whoami;
pub mod words;

use std::io::{IsTerminal, Write};

pub use cli::Cli;
pub use config::ClientConfig;
pub use connect::{connect, explain_status};
pub use error::ClientError;

/// Runs one command and prints its result on standard output.
///
/// Three commands are exceptions to "run, then print", because they stream: `alert watch`
/// writes and flushes each event to standard output as it arrives, until Ctrl-C; `import`
/// shows its progress on standard error while it sends the file, then prints its report;
/// `export` writes each record as it arrives.
pub async fn run(cli: Cli) -> Result<(), ClientError> {
    match &cli.command {
        cli::Command::Alert(cli::AlertCommand::Watch(args)) => {
            let config = load_config(&cli)?;
            let mut stdout = std::io::stdout();
            let terminal = stdout.is_terminal();
            return alerts::watch(&config, args, cli.json, terminal, &mut stdout).await;
        }
        cli::Command::Import(args) => {
            let config = load_config(&cli)?;
            let terminal = std::io::stderr().is_terminal();
            let mut stdout = std::io::stdout();
            let result = import::run(&config, args, cli.json, terminal, &mut stdout).await;
            return diagnosed(&config, result).await;
        }
        cli::Command::Console(args) => {
            let config = load_config(&cli)?;
            let mut stdout = std::io::stdout();
            return console::run(&config, args.listen, &mut stdout).await;
        }
        cli::Command::Whoami => {
            let config = load_config(&cli)?;
            let (text, result) = whoami::run(&config, cli.json).await;
            print(&text)?;
            return result;
        }
        cli::Command::Export(args) => {
            let config = load_config(&cli)?;
            let mut stdout = std::io::stdout();
            // A bar would garble records printed on the same terminal.
            let terminal =
                std::io::stderr().is_terminal() && (args.out.is_some() || !stdout.is_terminal());
            let result = export::run(&config, args, cli.json, terminal, &mut stdout).await;
            return diagnosed(&config, result).await;
        }
        _ => {}
    }
    let text = execute(&cli).await?;
    print(&text)
}

/// Writes a command's output to standard output.
fn print(text: &str) -> Result<(), ClientError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| ClientError::File {
            action: "write to",
            path: "standard output".into(),
            source,
        })
}

/// Runs one command and returns what it would print on standard output.
///
/// `alert watch`, which never finishes by itself, is refused here; [`run`] streams it.
pub async fn execute(cli: &Cli) -> Result<String, ClientError> {
    // A search for nothing is a usage mistake, reported before any file is read.
    if let cli::Command::Search(args) = &cli.command {
        search::request(args)?;
    }
    let path = cli.config.as_deref().ok_or(ClientError::NoConfig)?;
    let config = ClientConfig::load(path)?;
    let result = match &cli.command {
        cli::Command::Console(_) => Err(ClientError::Input(
            "`setu console` serves until Ctrl-C; run it through setu_client::run".to_string(),
        )),
        cli::Command::Import(_) | cli::Command::Export(_) => Err(ClientError::Input(
            "`setu import` and `setu export` stream their files; run them through \
             setu_client::run, which reports progress on standard error"
                .to_string(),
        )),
        cli::Command::Record(command) => records::run(&config, command, cli.json).await,
        cli::Command::Mo(command) => mo::run(&config, command, cli.json).await,
        cli::Command::Peers => peers::run(&config, cli.json).await,
        cli::Command::Audit(args) => audit::run(&config, args, cli.json).await,
        cli::Command::Search(args) => search::run(&config, path, args, cli.json).await,
        cli::Command::Alert(command) => alerts::run(&config, path, command, cli.json).await,
        cli::Command::Whoami => {
            let (text, result) = whoami::run(&config, cli.json).await;
            result.map(|()| text)
        }
    };
    diagnosed(&config, result).await
}

/// The configuration named by `--config` or `SETU_CONFIG`.
fn load_config(cli: &Cli) -> Result<ClientConfig, ClientError> {
    let path = cli.config.as_deref().ok_or(ClientError::NoConfig)?;
    ClientConfig::load(path)
}

/// A command's result, with a call cut off by the connection explained: it may be a refused
/// certificate whose TLS alert was lost; only then is the node probed, so the normal path
/// costs nothing extra.
async fn diagnosed<T>(
    config: &ClientConfig,
    result: Result<T, ClientError>,
) -> Result<T, ClientError> {
    match result {
        Err(error @ ClientError::CallCutOff { .. }) => Err(probe::diagnose(config, error).await),
        other => other,
    }
}
