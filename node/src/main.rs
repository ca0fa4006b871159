//! `setu-node`: the district node binary. Everything lives in the library; this file
//! installs the crypto provider and logging, runs the command and sets the exit code.
#![forbid(unsafe_code)]

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: the search index holds millions of small
/// allocations, and with glibc's allocator a search at a million records spent about 40 %
/// of its time inside malloc and free (heap consolidation over a fragmented heap).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    setu_node::net::tls::install_crypto_provider();
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
