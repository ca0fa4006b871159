//! What `grpcurl` relies on: server reflection lists every Setu service to an officer, and
//! the standard health service reports the node as serving — both behind mutual TLS.
#![forbid(unsafe_code)]

use setu_tests::{District, Role};
use tokio_stream::StreamExt;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

#[tokio::test]
async fn reflection_lists_the_services_and_health_says_serving() -> anyhow::Result<()> {
    let district = District::start("jh-dhanbad").await?;
    let officer = district.officer("JH-1001", Role::Officer).await?;

    let mut reflection = ServerReflectionClient::new(officer.channel.clone());
    let request = ServerReflectionRequest {
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
        .ok_or_else(|| anyhow::anyhow!("no reflection response"))??;
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        anyhow::bail!("unexpected reflection response: {response:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "setu.v1.RecordService",
        "setu.v1.MoService",
        "setu.v1.PhotoService",
        "setu.v1.PeerService",
        "setu.v1.FederationService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }

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
