//! Smoke test of the `setu` binary: it starts, prints its version and its help.
//!
//! Having an integration test also makes `cargo test --workspace` build the binary, which
//! the end-to-end tests of `setu-tests` run as a child process.
#![forbid(unsafe_code)]

use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    let bin = env!("CARGO_BIN_EXE_setu");
    Command::new(bin)
        .args(args)
        .env_remove("SETU_CONFIG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin} (run `cargo build --bins` first): {e}"))
}

#[test]
fn version_and_help() {
    let version = run(&["--version"]);
    assert!(version.status.success(), "--version failed: {version:?}");
    let text = String::from_utf8_lossy(&version.stdout);
    assert!(text.starts_with("setu "), "{text}");
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");

    let help = run(&["--help"]);
    assert!(help.status.success(), "--help failed: {help:?}");
    let text = String::from_utf8_lossy(&help.stdout);
    for command in ["record", "mo", "peers", "--config"] {
        assert!(
            text.contains(command),
            "--help does not mention `{command}`:\n{text}"
        );
    }
}
