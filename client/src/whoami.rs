//! `setu whoami`: who the configured certificate says the officer is (name, badge, role,
//! district, serial and expiry), and whether the node at the configured address accepts it.
//!
//! The identity is read from the certificate file itself, so it is shown even when the node
//! cannot be reached or refuses the certificate; the node is then asked one cheap
//! authenticated question (`PeerService/List`, which every officer of the district may ask),
//! and a refusal is explained in the officer's words like every other command's.

use serde::Serialize;
use setu_proto::v1 as pb;
use setu_proto::v1::peer_service_client::PeerServiceClient;

use crate::config::ClientConfig;
use crate::connect::connect;
use crate::error::ClientError;
use crate::identity::Me;
use crate::output::MAX_MESSAGE_BYTES;
use crate::render::{clean, format_ms, Card};
use crate::when::now_ms;
use crate::when::{days_left, span, DAY_MS};

/// What `setu whoami --json` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct WhoamiView {
    /// The officer's name (the certificate's common name).
    name: String,
    /// The badge number.
    badge: String,
    /// `officer`, `liaison` or `admin`.
    role: String,
    /// The district the certificate names.
    district: String,
    /// The certificate's serial (lower-case hex), as the node's `deny` list takes it.
    serial: String,
    /// The end of the certificate's validity, Unix milliseconds.
    not_after_ms: i64,
    /// Days until then, rounded to the nearest day (negative once expired).
    days_left: i64,
    /// What the node said.
    node: NodeVerdict,
}

/// The node's answer to this certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct NodeVerdict {
    /// The address from the configuration.
    address: String,
    /// Whether the node accepted the certificate and answered.
    accepted: bool,
    /// The district of the node that answered, when it did.
    #[serde(skip_serializing_if = "String::is_empty")]
    district: String,
    /// Why not, in the officer's words, when it did not.
    #[serde(skip_serializing_if = "String::is_empty")]
    error: String,
    /// Whether the node answered with a refusal (rather than not answering at all).
    #[serde(skip)]
    refused: bool,
}

/// Runs `setu whoami`: returns what it prints on standard output and, apart from it, the
/// node's refusal (or unreachability), which makes the command fail after printing.
pub(crate) async fn run(config: &ClientConfig, json: bool) -> (String, Result<(), ClientError>) {
    let me = match Me::read(&config.cert) {
        Ok(me) => me,
        Err(reason) => {
            return (
                String::new(),
                Err(ClientError::Credential {
                    key: "cert",
                    path: config.cert.clone(),
                    reason,
                }),
            )
        }
    };
    let answer = ask_node(config).await;
    let now = now_ms();
    let view = WhoamiView {
        name: me.name.clone(),
        badge: me.badge.clone(),
        role: me.role.clone(),
        district: me.district.clone(),
        serial: me.serial.clone(),
        not_after_ms: me.not_after_ms,
        days_left: me
            .not_after_ms
            .saturating_sub(now)
            .saturating_add(DAY_MS / 2)
            .div_euclid(DAY_MS),
        node: NodeVerdict {
            address: config.address.clone(),
            accepted: answer.is_ok(),
            district: answer.as_ref().map(|d| d.clone()).unwrap_or_default(),
            error: answer
                .as_ref()
                .err()
                .map(ToString::to_string)
                .unwrap_or_default(),
            refused: matches!(
                answer,
                Err(ClientError::CertificateRefused { .. } | ClientError::Rpc { .. })
            ),
        },
    };
    let text = if json {
        match serde_json::to_string_pretty(&view) {
            Ok(mut text) => {
                text.push('\n');
                text
            }
            Err(e) => return (String::new(), Err(e.into())),
        }
    } else {
        report(&view, now)
    };
    (text, answer.map(|_| ()))
}

/// Asks the node one authenticated question and returns its district, or why it would not
/// answer (a refused certificate found by the probe when the call was only cut off).
async fn ask_node(config: &ClientConfig) -> Result<String, ClientError> {
    let asked = async {
        let response = PeerServiceClient::new(connect(config).await?)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .list(pb::ListPeersRequest {})
            .await?
            .into_inner();
        Ok::<_, ClientError>(response.district)
    }
    .await;
    match asked {
        Err(error @ ClientError::CallCutOff { .. }) => {
            Err(crate::probe::diagnose(config, error).await)
        }
        other => other,
    }
}

/// The human report: the certificate's identity as a card, then the node's verdict.
fn report(v: &WhoamiView, now_ms: i64) -> String {
    let mut card = Card::default();
    card.always("Name", &v.name);
    card.always("Badge", &v.badge);
    card.always("Role", &v.role);
    card.always("District", &v.district);
    card.always("Serial", &v.serial);
    card.always("Expires", expiry_text(v.not_after_ms, now_ms));
    let verdict = if v.node.accepted {
        let district = if v.node.district.is_empty() {
            String::new()
        } else {
            format!(" (node of {})", clean(&v.node.district))
        };
        format!("{}{district} accepts this certificate", v.node.address)
    } else if v.node.refused {
        format!("{} does not accept it: {}", v.node.address, v.node.error)
    } else {
        format!("{} did not answer: {}", v.node.address, v.node.error)
    };
    card.always("Node", verdict);
    card.render()
}

/// "2027-12-07 19:05 IST (365 days left)", or "... (EXPIRED 3d 2h ago)".
fn expiry_text(not_after_ms: i64, now_ms: i64) -> String {
    if not_after_ms <= now_ms {
        format!(
            "{} (EXPIRED {} ago)",
            format_ms(not_after_ms),
            span(now_ms - not_after_ms)
        )
    } else {
        format!(
            "{} ({} left)",
            format_ms(not_after_ms),
            days_left(not_after_ms, now_ms)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_760_000_000_000;

    fn view() -> WhoamiView {
        WhoamiView {
            name: "Test Officer Name".into(),
            badge: "JH-1234".into(),
            role: "liaison".into(),
            district: "jh-dhanbad".into(),
            serial: "4a1b2c".into(),
            not_after_ms: NOW + 10 * DAY_MS - 5_000,
            days_left: 9,
            node: NodeVerdict {
                address: "https://127.0.0.1:7401".into(),
                accepted: true,
                district: "jh-dhanbad".into(),
                error: String::new(),
                refused: false,
            },
        }
    }

    #[test]
    fn the_report_names_the_officer_and_the_verdict() {
        let text = report(&view(), NOW);
        for line in [
            "Name      Test Officer Name",
            "Badge     JH-1234",
            "Role      liaison",
            "District  jh-dhanbad",
            "Serial    4a1b2c",
            "Node      https://127.0.0.1:7401 (node of jh-dhanbad) accepts this certificate",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
        assert!(text.contains("(10 days left)"), "{text}");
        let mut refused = view();
        refused.node.accepted = false;
        refused.node.district.clear();
        refused.node.error = "the node refused this certificate: unknown CA".into();
        refused.node.refused = true;
        refused.not_after_ms = NOW - DAY_MS;
        let text = report(&refused, NOW);
        assert!(
            text.contains(
                "https://127.0.0.1:7401 does not accept it: the node refused this certificate: unknown CA"
            ),
            "{text}"
        );
        assert!(text.contains("(EXPIRED 1d ago)"), "{text}");
        refused.node.refused = false;
        refused.node.error =
            "could not reach the node at https://127.0.0.1:7401: connection refused".into();
        let text = report(&refused, NOW);
        assert!(
            text.contains("https://127.0.0.1:7401 did not answer: could not reach the node"),
            "{text}"
        );
    }

    #[test]
    fn json_leaves_out_what_the_node_did_not_say() -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(view())?;
        assert_eq!(value["node"]["accepted"], true);
        assert!(value["node"].get("error").is_none(), "{value}");
        assert_eq!(value["days_left"], 9);
        Ok(())
    }
}
