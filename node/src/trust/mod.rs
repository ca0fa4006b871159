//! The trust boundary: who a certificate says it is, which CA may say so, and what that
//! identity may do on this node. Everything that decides whether to believe a caller
//! lives here, on [`cert`], which the rest builds on; nothing here does I/O beyond
//! reading and writing certificate files in [`pki`].

pub mod anchors;
pub mod auth;
pub mod cert;
pub mod deny;
pub mod identity;
pub mod pki;
