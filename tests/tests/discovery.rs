//! What `grpcurl` relies on: server reflection lists every Setu service to an officer (as
//! `grpc.reflection.v1` and as the older `v1alpha`, which some tools still ask for), and
//! the standard health service reports the node as serving — all behind mutual TLS.
#![forbid(unsafe_code)]

use setu_tests::{District, Role};
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::{v1, v1alpha};

/// The services every node must list through reflection.
const EXPECTED: [&str; 11] = [
    "setu.v1.RecordService",
    "setu.v1.MoService",
    "setu.v1.PhotoService",
    "setu.v1.SearchService",
    "setu.v1.AlertService",
    "setu.v1.ImportService",
    "setu.v1.MaintenanceService",
    "setu.v1.AuditService",
    "setu.v1.PeerService",
    "setu.v1.FederationService",
    "grpc.health.v1.Health",
];

/// The service names the node lists through `grpc.reflection.v1`.
async fn list_services_v1(channel: Channel) -> anyhow::Result<Vec<String>> {
    use v1::server_reflection_request::MessageRequest;
    use v1::server_reflection_response::MessageResponse;
    let mut reflection = v1::server_reflection_client::ServerReflectionClient::new(channel);
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await?
        .into_inner();
    let response = responses
        .next()
        .await
        .ok_or_else(|| anyhow::anyhow!("no v1 reflection response"))??;
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        anyhow::bail!("unexpected v1 reflection response: {response:?}");
    };
    Ok(list.service.into_iter().map(|s| s.name).collect())
}

/// The service names the node lists through `grpc.reflection.v1alpha`.
async fn list_services_v1alpha(channel: Channel) -> anyhow::Result<Vec<String>> {
    use v1alpha::server_reflection_request::MessageRequest;
    use v1alpha::server_reflection_response::MessageResponse;
    let mut reflection = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await?
        .into_inner();
    let response = responses
        .next()
        .await
        .ok_or_else(|| anyhow::anyhow!("no v1alpha reflection response"))??;
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        anyhow::bail!("unexpected v1alpha reflection response: {response:?}");
    };
    Ok(list.service.into_iter().map(|s| s.name).collect())
}

/// Asserts that `names`, listed through reflection `version`, hold every expected service.
fn assert_lists_every_service(version: &str, names: &[String]) {
    for expected in EXPECTED {
        assert!(
            names.iter().any(|n| n == expected),
            "{version}: {expected} missing from {names:?}"
        );
    }
}

#[tokio::test]
async fn reflection_lists_the_services_and_health_says_serving() -> anyhow::Result<()> {
    let district = District::start("jh-dhanbad").await?;
    let officer = district.officer("JH-1001", Role::Officer).await?;

    let names = list_services_v1(officer.channel.clone()).await?;
    assert_lists_every_service("v1", &names);
    let names = list_services_v1alpha(officer.channel.clone()).await?;
    assert_lists_every_service("v1alpha", &names);

    let mut health = HealthClient::new(officer.channel.clone());
    let status = health
        .check(HealthCheckRequest {
            service: "setu.v1.RecordService".to_string(),
        })
        .await?
        .into_inner();
    assert_eq!(status.status, ServingStatus::Serving as i32);
    Ok(())
}
