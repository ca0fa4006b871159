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
pub mod error;
pub mod explain;
pub mod input;
pub mod mo;
pub mod output;
pub mod parse;
pub mod peers;
pub mod photos;
pub mod probe;
pub mod records;
pub mod render;
pub mod search;
pub mod view;
pub mod words;

use std::io::{IsTerminal, Write};

pub use cli::Cli;
pub use config::ClientConfig;
pub use connect::{connect, explain_status};
pub use error::ClientError;

/// Runs one command and prints its result on standard output.
///
/// `alert watch` is the exception to "run, then print": it streams, so it writes and flushes
/// each event to standard output itself as it arrives, until Ctrl-C.
pub async fn run(cli: Cli) -> Result<(), ClientError> {
    if let cli::Command::Alert(cli::AlertCommand::Watch(args)) = &cli.command {
        let path = cli.config.as_deref().ok_or(ClientError::NoConfig)?;
        let config = ClientConfig::load(path)?;
        let mut stdout = std::io::stdout();
        let terminal = stdout.is_terminal();
        return alerts::watch(&config, args, cli.json, terminal, &mut stdout).await;
    }
    let text = execute(&cli).await?;
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
        cli::Command::Record(command) => records::run(&config, command, cli.json).await,
        cli::Command::Mo(command) => mo::run(&config, command, cli.json).await,
        cli::Command::Peers => peers::run(&config, cli.json).await,
        cli::Command::Audit(args) => audit::run(&config, args, cli.json).await,
        cli::Command::Search(args) => search::run(&config, path, args, cli.json).await,
        cli::Command::Alert(command) => alerts::run(&config, path, command, cli.json).await,
    };
    // A call cut off by the connection may be a refused certificate whose TLS alert was
    // lost; only then is the node probed, so the normal path costs nothing extra.
    match result {
        Err(error @ ClientError::CallCutOff { .. }) => Err(probe::diagnose(&config, error).await),
        other => other,
    }
}
