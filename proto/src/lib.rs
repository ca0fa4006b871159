//! Setu's gRPC contract: the code generated from `proto/setu/v1/*.proto`, shared by the
//! node, the client and the tests so that all three speak exactly the same messages.
#![forbid(unsafe_code)]

/// Package `setu.v1`.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("setu.v1");
}

/// The encoded `FileDescriptorSet` of every Setu service, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/setu_descriptor.bin"));
