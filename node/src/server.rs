//! Starting and stopping a node: checks the config, opens storage, binds the listener and
//! serves every service behind mutual TLS until asked to stop, then finishes the calls in
//! flight and flushes.

use crate::config::{ConfigError, NodeConfig};
use crate::service::mo::MoServiceImpl;
use crate::service::photos::PhotoServiceImpl;
use crate::service::records::RecordServiceImpl;
use crate::service::NodeState;
use crate::storage::{Storage, StorageError};
use setu_proto::v1::mo_service_server::MoServiceServer;
use setu_proto::v1::photo_service_server::PhotoServiceServer;
use setu_proto::v1::record_service_server::RecordServiceServer;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;

/// Why a node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration is invalid (exit code 64).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or flushed.
    #[error("{0}")]
    Storage(#[from] StorageError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The gRPC server failed.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The server task ended abnormally.
    #[error("the server task failed: {0}")]
    Task(String),
}

/// A node that is serving. Dropping it without [`RunningNode::shutdown`] leaves the server
/// task running until the runtime ends.
pub struct RunningNode {
    addr: SocketAddr,
    district: String,
    storage: Storage,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
}

impl RunningNode {
    /// The address the node listens on (with the real port when the config said 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The node's district id.
    pub fn district(&self) -> &str {
        &self.district
    }

    /// The node's storage (for tests and tools that run beside the server).
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Stops accepting, lets calls in flight finish, flushes and waits for the end.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await
    }

    /// Waits until the server ends (after [`RunningNode::shutdown`] or a failure).
    pub async fn wait(self) -> Result<(), ServeError> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(ServeError::Task(e.to_string())),
        }
    }

    /// A handle that stops the server when used; for signal handlers.
    pub fn stop_handle(&mut self) -> Option<oneshot::Sender<()>> {
        self.stop.take()
    }
}

/// Validates `config`, opens storage, binds and starts serving in a background task.
pub async fn start(config: NodeConfig) -> Result<RunningNode, ServeError> {
    config.validate()?;
    let tls = crate::tls::server_tls(&config)?;
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        ConfigError::new(
            "data_dir",
            format!("cannot create {}: {e}", config.data_dir.display()),
        )
    })?;
    let storage = Storage::open(&config.data_dir, config.cache_mib * 1024 * 1024)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    let state = Arc::new(NodeState {
        district: config.district.clone(),
        storage: storage.clone(),
        default_handling: config.default_handling.handling(),
    });

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<RecordServiceServer<RecordServiceImpl>>()
        .await;
    health_reporter
        .set_serving::<MoServiceServer<MoServiceImpl>>()
        .await;
    health_reporter
        .set_serving::<PhotoServiceServer<PhotoServiceImpl>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(setu_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServeError::Task(format!("reflection: {e}")))?;

    let max = config.max_message_bytes;
    let router = Server::builder()
        .tls_config(tls)?
        .timeout(Duration::from_secs(60))
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .add_service(health_service)
        .add_service(reflection)
        .add_service(
            RecordServiceServer::new(RecordServiceImpl::new(state.clone()))
                .max_decoding_message_size(max),
        )
        .add_service(
            MoServiceServer::new(MoServiceImpl::new(state.clone())).max_decoding_message_size(max),
        )
        .add_service(
            PhotoServiceServer::new(PhotoServiceImpl::new(state.clone()))
                .max_decoding_message_size(max),
        );

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let district = config.district.clone();
    let task_storage = storage.clone();
    let task = tokio::spawn(async move {
        let served = router
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
            })
            .await;
        health_reporter
            .set_not_serving::<RecordServiceServer<RecordServiceImpl>>()
            .await;
        let flushed = task_storage.flush().await;
        tracing::info!(district = %district, "node stopped");
        served?;
        flushed?;
        Ok(())
    });
    tracing::info!(district = %config.district, %addr, data_dir = %config.data_dir.display(), "node serving (mutual TLS)");
    Ok(RunningNode {
        addr,
        district: config.district,
        storage,
        stop: Some(stop_tx),
        task,
    })
}
