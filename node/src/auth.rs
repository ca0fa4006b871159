//! Who is calling and what they may do. Identity and role come from the client
//! certificate that mutual TLS verified, never from request fields.

use crate::error::{NodeError, NodeResult};
use crate::identity::{identity_from_der, Identity, Officer};
use tonic::Request;

/// The verified identity behind a request.
pub fn caller<T>(request: &Request<T>) -> NodeResult<Identity> {
    let certs = request.peer_certs().ok_or_else(|| {
        NodeError::Unauthenticated("no client certificate was presented".to_string())
    })?;
    let leaf = certs.first().ok_or_else(|| {
        NodeError::Unauthenticated("no client certificate was presented".to_string())
    })?;
    identity_from_der(leaf.as_ref()).map_err(|e| {
        NodeError::Unauthenticated(format!(
            "the client certificate is not a Setu identity: {e}"
        ))
    })
}

/// The officer behind a request; a node certificate is not an officer.
pub fn officer(identity: Identity) -> NodeResult<Officer> {
    match identity {
        Identity::Officer(officer) => Ok(officer),
        Identity::Node { district } => Err(NodeError::PermissionDenied(format!(
            "this is the node certificate of {district}; officer services need an officer certificate"
        ))),
    }
}

/// How an officer is named in records and logs, e.g. `JH-1234 (jh-dhanbad)`.
pub fn officer_label(officer: &Officer) -> String {
    format!("{} ({})", officer.badge, officer.district)
}

/// Only officers of the owning district change an item, and only on that district's node.
pub fn require_owner(
    officer: &Officer,
    node_district: &str,
    origin: &str,
    what: &str,
) -> NodeResult<()> {
    if origin != node_district {
        return Err(NodeError::PermissionDenied(format!(
            "{what} is owned by {origin}; only {origin} changes it, on its own node"
        )));
    }
    if officer.district != origin {
        return Err(NodeError::PermissionDenied(format!(
            "{what} is owned by {origin}; an officer of {} may read it but not change it",
            officer.district
        )));
    }
    Ok(())
}

/// Only admins may do `action`.
pub fn require_admin(officer: &Officer, action: &str) -> NodeResult<()> {
    if officer.role.is_admin() {
        Ok(())
    } else {
        Err(NodeError::PermissionDenied(format!(
            "{action} needs the admin role; this certificate has the {} role",
            officer.role
        )))
    }
}
