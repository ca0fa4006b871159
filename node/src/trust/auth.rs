//! Who is calling and what they may do. Identity and role come from the client
//! certificate that mutual TLS verified, never from request fields, and are believed only
//! when a CA bound to the identity's district and kind issued it
//! ([`crate::trust::anchors`]). A node serves its own district's officers only.

use crate::error::{NodeError, NodeResult};
use crate::trust::anchors::{NotVouched, TrustAnchors};
use crate::trust::deny::DenyList;
use crate::trust::identity::{identity_from_der, Identity, Officer, Role};
use rustls::pki_types::CertificateDer;
use std::sync::Arc;
use tonic::Request;

/// The verified identity behind a request on the node of `node_district`: vouched for by a
/// CA bound to its district and kind, and not on the deny-list.
pub fn caller<T>(request: &Request<T>, node_district: &str) -> NodeResult<Identity> {
    let identity = identify(request)?;
    check_vouched(request, &identity, node_district)?;
    check_deny(request, &identity)?;
    Ok(identity)
}

/// Refuses the request unless its client certificate chains to a CA bound to the district
/// and kind of `identity` (the bindings in force when the call arrived, put into the
/// request's extensions by the server). An officer of another district whose certificate
/// its own district's CA issued is told where to go instead.
pub fn check_vouched<T>(
    request: &Request<T>,
    identity: &Identity,
    node_district: &str,
) -> NodeResult<()> {
    let Some(anchors) = request.extensions().get::<Arc<TrustAnchors>>() else {
        return Err(NodeError::Unauthenticated(
            "this node has no trust bindings in force; the call is refused".to_string(),
        ));
    };
    let leaf = leaf_certificate(request)?;
    match anchors.vouch(leaf.as_ref(), identity) {
        Ok(()) => Ok(()),
        Err(NotVouched::KindNotBound { .. })
            if identity.as_officer().is_some() && identity.district() != node_district =>
        {
            Err(officer_elsewhere(identity.district(), node_district))
        }
        Err(e) => {
            tracing::warn!(claimed = %identity, reason = %e, "refused a call: no CA bound to the identity it names issued the certificate");
            Err(NodeError::Unauthenticated(format!(
                "this node does not accept the certificate: {e}"
            )))
        }
    }
}

/// The refusal of an officer of `officer_district` on the node of `node_district`.
fn officer_elsewhere(officer_district: &str, node_district: &str) -> NodeError {
    NodeError::PermissionDenied(format!(
        "officers of {officer_district} use their own district's node; what {node_district} shares with them is there"
    ))
}

/// The officer behind a request on the node of `node_district`: a node certificate is not
/// an officer, and an officer of another district uses that district's node.
pub fn own_officer(identity: Identity, node_district: &str) -> NodeResult<Officer> {
    let officer = officer(identity)?;
    if officer.district != node_district {
        return Err(officer_elsewhere(&officer.district, node_district));
    }
    Ok(officer)
}

/// The identity the request's client certificate names, without the deny-list check (for
/// audit entries, which name a denied caller too). Use [`caller`] to authorise.
pub fn identify<T>(request: &Request<T>) -> NodeResult<Identity> {
    let leaf = leaf_certificate(request)?;
    identity_from_der(leaf.as_ref()).map_err(|e| {
        NodeError::Unauthenticated(format!(
            "the client certificate is not a Setu identity: {e}"
        ))
    })
}

/// Refuses the request when its client certificate is on the node's deny-list (the list in
/// force when the call arrived, put into the request's extensions by the server).
pub fn check_deny<T>(request: &Request<T>, identity: &Identity) -> NodeResult<()> {
    let Some(deny) = request.extensions().get::<Arc<DenyList>>() else {
        return Ok(());
    };
    if deny.is_empty() {
        return Ok(());
    }
    let leaf = leaf_certificate(request)?;
    match deny.check_der(leaf.as_ref()) {
        None => Ok(()),
        Some(denial) => {
            tracing::warn!(caller = %identity, %denial, "refused a call: the certificate is on the deny-list");
            let who = match identity {
                Identity::Officer(o) => format!("badge {}, {}", o.badge, o.district),
                Identity::Node { district } => format!("node certificate of {district}"),
            };
            Err(NodeError::Unauthenticated(format!(
                "certificate serial {} ({who}) is on this node's deny-list; it is no longer accepted",
                denial.serial
            )))
        }
    }
}

/// The client's own certificate, first in the chain it presented.
fn leaf_certificate<T>(request: &Request<T>) -> NodeResult<CertificateDer<'static>> {
    let certs = request.peer_certs().ok_or_else(|| {
        NodeError::Unauthenticated("no client certificate was presented".to_string())
    })?;
    certs.first().cloned().ok_or_else(|| {
        NodeError::Unauthenticated("no client certificate was presented".to_string())
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

/// Only officers of `district` with at least the role `least` may do `action` on its node
/// (for example, posting an alert needs a liaison or admin of the node's own district).
pub fn require_district_role(
    officer: &Officer,
    district: &str,
    least: Role,
    action: &str,
) -> NodeResult<()> {
    if officer.role < least {
        return Err(NodeError::PermissionDenied(format!(
            "{action} needs the {least} or a higher role; this certificate has the {} role",
            officer.role
        )));
    }
    if officer.district != district {
        return Err(NodeError::PermissionDenied(format!(
            "{action} on the node of {district} needs an officer of {district}; this certificate is of {}",
            officer.district
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn officer(district: &str, role: Role) -> Officer {
        Officer {
            district: district.into(),
            badge: "JH-0001".into(),
            role,
            name: "Test Officer".into(),
        }
    }

    #[test]
    fn district_roles_need_the_role_and_the_district() {
        let rule =
            |o: &Officer| require_district_role(o, "jh-dhanbad", Role::Liaison, "posting an alert");
        assert!(rule(&officer("jh-dhanbad", Role::Liaison)).is_ok());
        assert!(rule(&officer("jh-dhanbad", Role::Admin)).is_ok());
        let err = rule(&officer("jh-dhanbad", Role::Officer))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("liaison") && err.contains("officer role"),
            "{err}"
        );
        let err = rule(&officer("wb-asansol-durgapur", Role::Liaison))
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs an officer of jh-dhanbad"), "{err}");
    }
}
