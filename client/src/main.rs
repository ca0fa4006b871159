//! The `setu` binary: parses the command line, runs it and reports failure on stderr.
//!
//! Results go to stdout only; errors go to stderr as `error: ...` (with `--json`, as one
//! JSON object carrying the gRPC code of a node's refusal) with exit status 1, and
//! usage errors exit with status 2 as clap reports them. `setu import` exits with status 3
//! when it refused some rows but imported the rest (see `ClientError::exit_code`).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use setu_client::{Cli, ClientError};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match start(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            match error.downcast_ref::<ClientError>() {
                // With --json the error is one JSON object, with the node's gRPC code.
                Some(client) if json => eprintln!("{}", client.to_json()),
                _ => eprintln!("error: {error}"),
            }
            error
                .downcast_ref::<ClientError>()
                .map_or(ExitCode::FAILURE, |e| ExitCode::from(e.exit_code()))
        }
    }
}

/// Installs the TLS crypto provider, then runs the command on a single-threaded runtime.
fn start(cli: Cli) -> anyhow::Result<()> {
    // Only ring is compiled in; installing it explicitly keeps rustls from guessing. A second
    // installation attempt fails harmlessly, so the result is deliberately ignored.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(setu_client::run(cli))?;
    Ok(())
}
