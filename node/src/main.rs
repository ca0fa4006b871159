//! `setu-node`: the district node binary. Everything lives in the library; this file
//! installs the crypto provider and logging, runs the command and sets the exit code.
#![forbid(unsafe_code)]

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    setu_node::tls::install_crypto_provider();
    setu_node::cli::init_logging();
    let cli = setu_node::cli::Cli::parse();
    match setu_node::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
