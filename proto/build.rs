//! Compiles the `.proto` files with protox (pure Rust, no system `protoc`) and keeps the
//! encoded descriptor set for gRPC server reflection.

use prost::Message;

const PROTOS: &[&str] = &[
    "setu/v1/common.proto",
    "setu/v1/records.proto",
    "setu/v1/mo.proto",
    "setu/v1/photos.proto",
    "setu/v1/federation.proto",
    "setu/v1/audit.proto",
    "setu/v1/search.proto",
    "setu/v1/alerts.proto",
    "setu/v1/import.proto",
    "setu/v1/maintenance.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fds = protox::compile(PROTOS, ["."])?;
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("setu_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    println!("cargo:rerun-if-changed=setu");
    Ok(())
}
