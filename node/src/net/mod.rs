//! The node's network edge: TLS material built from the trust configuration, the accept
//! loop and the peer dialler, and the reload that swaps the material in while serving.

pub mod connection;
pub mod reload;
pub mod tls;
