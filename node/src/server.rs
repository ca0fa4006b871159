//! Starting and stopping a node: checks the config, opens storage, binds the listener and
//! serves every service behind mutual TLS until asked to stop, then finishes the calls in
//! flight and flushes.

use crate::config::{ConfigError, NodeConfig};
use crate::federation::keys::{KeyError, Signer};
use crate::federation::puller::Puller;
use crate::federation::Federation;
use crate::net::reload::{ReloadError, ReloadReport, TlsState};
use crate::ops::health::Health;
use crate::ops::metrics::{self, Metrics};
use crate::service::alerts::AlertServiceImpl;
use crate::service::audit::AuditServiceImpl;
use crate::service::federation::FederationServiceImpl;
use crate::service::import::ImportServiceImpl;
use crate::service::maintenance::MaintenanceServiceImpl;
use crate::service::mo::MoServiceImpl;
use crate::service::peers::PeerServiceImpl;
use crate::service::photos::PhotoServiceImpl;
use crate::service::records::RecordServiceImpl;
use crate::service::search::SearchServiceImpl;
use crate::service::NodeState;
use crate::storage::{Storage, StorageError};
use setu_proto::v1::alert_service_server::AlertServiceServer;
use setu_proto::v1::audit_service_server::AuditServiceServer;
use setu_proto::v1::federation_service_server::FederationServiceServer;
use setu_proto::v1::import_service_server::ImportServiceServer;
use setu_proto::v1::maintenance_service_server::MaintenanceServiceServer;
use setu_proto::v1::mo_service_server::MoServiceServer;
use setu_proto::v1::peer_service_server::PeerServiceServer;
use setu_proto::v1::photo_service_server::PhotoServiceServer;
use setu_proto::v1::record_service_server::RecordServiceServer;
use setu_proto::v1::search_service_server::SearchServiceServer;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::server::NamedService;
use tonic::service::InterceptorLayer;
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
    /// The admin listener's address could not be bound.
    #[error("config key `admin_listen`: cannot listen on {addr}: {source}")]
    AdminBind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The node's signing key could not be loaded or attested.
    #[error("signing key: {0}")]
    Key(#[from] KeyError),
    /// A peer link could not be set up.
    #[error("peer link: {0}")]
    Peer(String),
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
    admin_addr: SocketAddr,
    district: String,
    storage: Storage,
    federation: Arc<Federation>,
    tls: Arc<TlsState>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
}

impl RunningNode {
    /// The address the node listens on (with the real port when the config said 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the admin listener (`/metrics`, `/health`), with the real port when
    /// the config said 0.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// The node's district id.
    pub fn district(&self) -> &str {
        &self.district
    }

    /// The node's storage (for tests and tools that run beside the server).
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The node's federation state (for tests and tools that run beside the server).
    pub fn federation(&self) -> &Arc<Federation> {
        &self.federation
    }

    /// The node's current TLS material and deny-list.
    pub fn tls(&self) -> &Arc<TlsState> {
        &self.tls
    }

    /// Applies the reloadable keys of `config` (`cert`, `key`, `trusted_cas`, each peer's
    /// `ca`, `deny`) without dropping open connections: new connections and dials use the
    /// new material, calls check the new deny-list. `config` is validated in full first;
    /// on any error the node keeps its current material. What SIGHUP does in `setu-node
    /// serve`.
    pub fn reload(&self, config: &NodeConfig) -> Result<ReloadReport, ReloadError> {
        self.tls.reload(config)
    }

    /// A handle that reloads like [`RunningNode::reload`], for signal handlers.
    pub fn reloader(&self) -> Reloader {
        Reloader {
            tls: self.tls.clone(),
        }
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
    start_on(config, None).await
}

/// Like [`start`], but serves on `listener`, a socket the caller bound already (a test
/// mesh binds every node's port 0 first, so that each node's peers know its address before
/// any node starts). `config.listen` is then only what the log and errors name.
pub async fn start_on(
    config: NodeConfig,
    listener: Option<std::net::TcpListener>,
) -> Result<RunningNode, ServeError> {
    config.validate()?;
    let material = crate::net::tls::TlsMaterial::load(&config)?;
    let tls = TlsState::new(&config, &material)?;
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        ConfigError::new(
            "data_dir",
            format!("cannot create {}: {e}", config.data_dir.display()),
        )
    })?;
    let cert_der = material
        .chain
        .first()
        .cloned()
        .ok_or_else(|| ConfigError::new("cert", "holds no certificate"))?;
    let key_pem = material.key_pem.clone();
    let signer = Arc::new(Signer::load_or_create(
        &config.data_dir,
        &config.district,
        cert_der.as_ref(),
        &key_pem,
    )?);
    let storage = Storage::open(
        &config.data_dir,
        config.cache_mib * 1024 * 1024,
        &config.district,
        signer.clone(),
    )?;
    let federation = Arc::new(Federation::new(
        &config,
        storage.clone(),
        signer,
        tls.anchors(),
    )?);
    let pullers = config
        .peers
        .iter()
        .map(|peer| Puller::new(federation.clone(), peer.clone(), tls.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ServeError::Peer)?;
    let bind_error = |source| ServeError::Bind {
        addr: config.listen,
        source,
    };
    let listener = match listener {
        Some(bound) => {
            bound.set_nonblocking(true).map_err(bind_error)?;
            tokio::net::TcpListener::from_std(bound).map_err(bind_error)?
        }
        None => tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(bind_error)?,
    };
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    let admin_listener = tokio::net::TcpListener::bind(config.admin_listen)
        .await
        .map_err(|source| ServeError::AdminBind {
            addr: config.admin_listen,
            source,
        })?;
    let admin_addr = admin_listener
        .local_addr()
        .map_err(|source| ServeError::AdminBind {
            addr: config.admin_listen,
            source,
        })?;
    let state = Arc::new(NodeState {
        district: config.district.clone(),
        storage: storage.clone(),
        default_handling: config.default_handling.handling(),
        peers: config.peers.iter().map(|p| p.district.clone()).collect(),
        clock: config.clock.clone(),
        data_dir: config.data_dir.clone(),
    });

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let health = Arc::new(Health::new(health_reporter, served_service_names()).await);
    let metrics = Arc::new(Metrics::new(metrics::Sources {
        district: config.district.clone(),
        storage: storage.clone(),
        federation: federation.clone(),
        clock: config.clock.clone(),
        health: health.clone(),
    }));
    // Reflection is served as both `grpc.reflection.v1` and the older `v1alpha`, which
    // many tools (older grpcurl, Postman, some IDE plugins) still ask for first; both
    // describe the same descriptor sets.
    let reflection_builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(setu_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection = reflection_builder()
        .build_v1()
        .map_err(|e| ServeError::Task(format!("reflection: {e}")))?;
    let reflection_v1alpha = reflection_builder()
        .build_v1alpha()
        .map_err(|e| ServeError::Task(format!("reflection (v1alpha): {e}")))?;

    // Shutdown starts by ending the sync streams served to peers and the pullers: a peer's
    // stream never ends on its own, and the server waits for open streams before it stops.
    let (sync_stop, sync_stop_rx) = tokio::sync::watch::channel(false);
    let sync_stop = Arc::new(sync_stop);
    let max = config.max_message_bytes;
    // Every call carries the node's metrics in its extensions, for the handlers' timers,
    // and the deny-list and CA bindings in force when it arrived, for `trust::auth`.
    let call_metrics = metrics.clone();
    let call_tls = tls.clone();
    // Refusals tonic makes before any handler runs (undecodable or oversize requests) are
    // audited, logged and counted by this layer, which no handler would otherwise see.
    let refusals = crate::service::refusals::RefusalLayer::new(
        storage.clone(),
        metrics.clone(),
        served_service_names(),
    );
    let router = Server::builder()
        // No server-wide deadline: an import streams rows for minutes and a watch or sync
        // stream stays open for days. A client's own deadline (grpc-timeout) is honoured,
        // and HTTP/2 keepalive finds peers that went away.
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .layer(refusals)
        .layer(InterceptorLayer::new(
            move |mut request: tonic::Request<()>| {
                request.extensions_mut().insert(call_metrics.clone());
                request.extensions_mut().insert(call_tls.deny());
                request
                    .extensions_mut()
                    .insert(call_tls.anchors().current());
                Ok(request)
            },
        ))
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_v1alpha)
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
        )
        .add_service(
            SearchServiceServer::new(SearchServiceImpl::new(state.clone()))
                .max_decoding_message_size(max),
        )
        .add_service(
            AlertServiceServer::new(AlertServiceImpl::new(state.clone(), sync_stop_rx.clone()))
                .max_decoding_message_size(max),
        )
        .add_service(
            MaintenanceServiceServer::new(MaintenanceServiceImpl::new(state.clone()))
                .max_encoding_message_size(64 * 1024 * 1024),
        )
        .add_service(
            ImportServiceServer::new(ImportServiceImpl::new(state.clone()))
                .max_decoding_message_size(max),
        )
        .add_service(AuditServiceServer::new(AuditServiceImpl::new(
            state.clone(),
        )))
        .add_service(PeerServiceServer::new(PeerServiceImpl::new(
            federation.clone(),
            tls.clone(),
        )))
        .add_service(
            FederationServiceServer::new(FederationServiceImpl::new(
                federation.clone(),
                sync_stop_rx.clone(),
            ))
            .max_decoding_message_size(max)
            .max_encoding_message_size(64 * 1024 * 1024)
            // Negotiated per call: responses are compressed only for a caller that says it
            // accepts zstd or gzip (photo fetches ask for neither), in the caller's order of
            // preference; older peers that know only gzip, or send plain requests, keep
            // working.
            .accept_compressed(tonic::codec::CompressionEncoding::Zstd)
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .send_compressed(tonic::codec::CompressionEncoding::Zstd)
            .send_compressed(tonic::codec::CompressionEncoding::Gzip),
        );

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    // Our own accept loop rather than tonic's TLS: each new connection takes the TLS
    // settings current at its handshake, so a reload never touches open connections.
    let incoming = crate::net::connection::incoming(listener, tls.clone());
    let district = config.district.clone();
    let task_storage = storage.clone();
    // Background work: one puller per peer, the tombstone collector and the audit pruner, all stopped
    // through `sync_stop` when the server stops.
    let mut background = Vec::new();
    for puller in pullers {
        background.push(crate::spawn(puller.run(sync_stop_rx.clone())));
    }
    background.push(crate::spawn(collect_tombstones(
        federation.clone(),
        sync_stop_rx.clone(),
    )));
    background.push(crate::spawn(prune_audit(
        storage.clone(),
        config.audit_retention_days,
        sync_stop_rx.clone(),
    )));
    background.push(crate::spawn(crate::federation::status::watch_expiry(
        tls.clone(),
        federation.clone(),
        config.clock.clone(),
        sync_stop_rx.clone(),
    )));
    background.push(crate::spawn(crate::review::remind_daily(
        storage.clone(),
        config.district.clone(),
        config.clock.clone(),
        sync_stop_rx.clone(),
    )));
    background.push(crate::spawn(crate::ops::health::probe_storage(
        health.clone(),
        storage.clone(),
        config.clock.clone(),
        sync_stop_rx,
    )));
    // The admin listener stays up while the calls in flight finish, so that `/health`
    // says "not serving" during the drain; it stops with the gRPC server.
    let (admin_stop, admin_stop_rx) = oneshot::channel::<()>();
    background.push(crate::ops::admin::serve(
        admin_listener,
        metrics,
        health.clone(),
        async {
            let _ = admin_stop_rx.await;
        },
    ));
    let signal_sync_stop = sync_stop.clone();
    let task = crate::spawn(async move {
        let served = router
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
                // Health turns NOT_SERVING before the drain, so balancers stop sending.
                health.shutting_down().await;
                let _ = signal_sync_stop.send(true);
            })
            .await;
        let _ = sync_stop.send(true);
        let _ = admin_stop.send(());
        for task in background {
            let _ = task.await;
        }
        let flushed = task_storage.flush().await;
        // The next start reads the search index back instead of rebuilding it.
        let snapshot_storage = task_storage.clone();
        let span = tracing::Span::current();
        let save = move || {
            let _in_node = span.enter();
            snapshot_storage.save_search_snapshot()
        };
        match tokio::task::spawn_blocking(save).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "search index snapshot not saved; the next start rebuilds the index")
            }
            Err(e) => {
                tracing::warn!(error = %e, "search index snapshot not saved; the next start rebuilds the index")
            }
        }
        tracing::info!(district = %district, "node stopped");
        served?;
        flushed?;
        Ok(())
    });
    let own = tls.own();
    tracing::info!(district = %config.district, %addr, data_dir = %config.data_dir.display(), serial = %own.serial, cert_expires = %crate::trust::cert::format_ms(own.not_after_ms), "node serving (mutual TLS)");
    tracing::info!(%admin_addr, "admin listener serving /metrics and /health (plain HTTP)");
    if !admin_addr.ip().is_loopback() {
        tracing::warn!(%admin_addr, "the admin listener is not on loopback: its metrics are plain HTTP; keep the address on a management network");
    }
    Ok(RunningNode {
        addr,
        admin_addr,
        district: config.district,
        storage,
        federation,
        tls,
        stop: Some(stop_tx),
        task,
    })
}

/// Reloads a running node's TLS material from a signal handler (see
/// [`RunningNode::reload`]).
#[derive(Clone)]
pub struct Reloader {
    tls: Arc<TlsState>,
}

impl Reloader {
    /// Like [`RunningNode::reload`].
    pub fn reload(&self, config: &NodeConfig) -> Result<ReloadReport, ReloadError> {
        self.tls.reload(config)
    }
}

/// Collects tombstones that every peer has applied, once their grace period is over.
async fn collect_tombstones(
    federation: Arc<Federation>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let every = federation.anti_entropy.max(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        let f = federation.clone();
        match tokio::task::spawn_blocking(move || f.collect_tombstones()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(collected = n, "tombstones collected"),
            Ok(Err(e)) => tracing::error!(error = %e, "tombstone collection failed"),
            Err(e) => tracing::error!(error = %e, "tombstone collection panicked"),
        }
    }
}

/// Removes audit entries older than the retention period, once a day (the first pass an
/// hour after start, so that a restart loop does not prune over and over).
async fn prune_audit(
    storage: Storage,
    retention_days: u64,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    const DAY: Duration = Duration::from_secs(24 * 60 * 60);
    let mut wait = Duration::from_secs(60 * 60);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        wait = DAY;
        let retention_ms = i64::try_from(retention_days)
            .unwrap_or(i64::MAX)
            .saturating_mul(24 * 60 * 60 * 1000);
        let before_ms = crate::clock::now_ms().saturating_sub(retention_ms);
        let s = storage.clone();
        match tokio::task::spawn_blocking(move || s.prune_audit(before_ms)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => {
                if let Err(e) = storage.flush().await {
                    tracing::error!(error = %e, "flushing after audit pruning failed");
                }
                tracing::info!(
                    removed = n,
                    retention_days,
                    "audit entries past retention removed"
                );
            }
            Ok(Err(e)) => tracing::error!(error = %e, "audit pruning failed"),
            Err(e) => tracing::error!(error = %e, "audit pruning panicked"),
        }
    }
}

/// The gRPC services whose health is reported (besides the whole server, the empty name).
fn served_service_names() -> Vec<&'static str> {
    vec![
        RecordServiceServer::<RecordServiceImpl>::NAME,
        MoServiceServer::<MoServiceImpl>::NAME,
        PhotoServiceServer::<PhotoServiceImpl>::NAME,
        SearchServiceServer::<SearchServiceImpl>::NAME,
        AlertServiceServer::<AlertServiceImpl>::NAME,
        ImportServiceServer::<ImportServiceImpl>::NAME,
        MaintenanceServiceServer::<MaintenanceServiceImpl>::NAME,
        AuditServiceServer::<AuditServiceImpl>::NAME,
        PeerServiceServer::<PeerServiceImpl>::NAME,
        FederationServiceServer::<FederationServiceImpl>::NAME,
    ]
}
