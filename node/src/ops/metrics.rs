//! The node's metrics, in the OpenMetrics text format that Prometheus scrapes: what an
//! operator needs to see that a district node is working (calls and their latency and
//! outcome, replication lag to each peer, alerts nobody has acknowledged, what the database
//! holds and how large it is) without reading logs.
//!
//! Calls are counted as they finish, through a [`CallTimer`]: `service::officer_call` times
//! every officer RPC and the federation service the calls of peer nodes, by method and gRPC
//! status code. Everything else is read when the endpoint is scraped, in one blocking pass
//! off the async threads (see [`Metrics::render`]), so nothing is kept up to date between
//! scrapes. The numbers carry no personal data: no names, ids or officers, only counts,
//! district ids and method names, which is why the admin listener serves them over plain
//! HTTP on loopback (see [`crate::ops::admin`]).
//!
//! The registry is per node (not global), so several nodes in one process — the tests, the
//! demo — each report their own numbers. It reaches the gRPC handlers as a request
//! extension, put there by a layer in `server.rs`.

use crate::alert_view;
use crate::clock::Clock;
use crate::federation::Federation;
use crate::ops::health::Health;
use crate::storage::{Storage, StorageError, StorageResult};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use setu_proto::v1::{AlertState, PeerStatus};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the RPC latency buckets, in seconds: from a cached read (about a
/// millisecond) to a large bulk import or a slow disk (several seconds).
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Why the metrics could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// A storage read for a gauge failed.
    #[error("reading the database for the metrics: {0}")]
    Storage(#[from] StorageError),
    /// The blocking read did not complete.
    #[error("the metrics task failed: {0}")]
    Task(String),
    /// The text could not be written.
    #[error("encoding the metrics failed")]
    Encode(#[from] std::fmt::Error),
}

/// An RPC's method (`RecordService/Create`) and gRPC status code name (`OK`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    method: &'static str,
    code: &'static str,
}

/// A call refused before any handler saw it: its method (`RecordService/Create`, or
/// `<Service>/unknown` for a method this node does not serve) and status code name.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    method: String,
    code: &'static str,
}

/// An origin district.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OriginLabels {
    origin: String,
}

/// A peer district.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabels {
    peer: String,
}

/// One origin's changes on the link with one peer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerOriginLabels {
    peer: String,
    origin: String,
}

/// One origin's changes on the link with one peer, in one direction: `in` (from the peer
/// to this node) or `out` (from this node to the peer).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LagLabels {
    peer: String,
    origin: String,
    direction: &'static str,
}

/// Envelopes of one origin from one peer, by what became of them: `received` (verified),
/// `applied` (stored, new here) or `ignored` (already held, or something newer).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EnvelopeLabels {
    peer: String,
    origin: String,
    outcome: &'static str,
}

/// Bytes on the link with one peer, by class (`live`, `catch-up`, `photos`) and direction
/// (`in` from the peer, `out` to it).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LinkBytesLabels {
    peer: String,
    class: String,
    direction: &'static str,
}

/// The oldest undelivered item of one kind (`change` or `alert`) on the link with one peer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UndeliveredLabels {
    peer: String,
    kind: &'static str,
}

/// Alerts this district posted (`outgoing`) or was sent (`incoming`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabels {
    direction: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The gauges set from a [`Snapshot`] at each scrape.
#[derive(Default)]
struct Gauges {
    records: Family<OriginLabels, Gauge>,
    database_size: Gauge,
    storage_healthy: Gauge,
    alerts_awaiting_ack: Family<DirectionLabels, Gauge>,
    alerts_overdue: Family<DirectionLabels, Gauge>,
    sync_lag: Family<LagLabels, Gauge>,
    sync_applied: Family<PeerOriginLabels, Gauge>,
    peer_connected: Family<PeerLabels, Gauge>,
    peer_last_contact: Family<PeerLabels, Gauge<f64, AtomicU64>>,
    peer_reconnects: Family<PeerLabels, Gauge>,
    peer_slow_link: Family<PeerLabels, Gauge>,
    oldest_undelivered: Family<UndeliveredLabels, Gauge<f64, AtomicU64>>,
}

/// Where the scrape-time gauges are read from.
pub struct Sources {
    /// This node's district.
    pub district: String,
    /// The node's storage.
    pub storage: Storage,
    /// The federation state (peer links).
    pub federation: Arc<Federation>,
    /// The clock alert deadlines are judged by.
    pub clock: Clock,
    /// The node's health (storage probe result).
    pub health: Arc<Health>,
}

/// One node's metrics registry.
pub struct Metrics {
    registry: Registry,
    rpc_requests: Family<RpcLabels, Counter>,
    rpc_duration: Family<RpcLabels, Histogram, fn() -> Histogram>,
    refused_before_handler: Family<RefusedLabels, Counter>,
    sync_envelopes: Family<EnvelopeLabels, Counter>,
    link_bytes: Family<LinkBytesLabels, Counter>,
    gauges: Gauges,
    sources: Sources,
    /// Held from the gauge refresh to the end of encoding, so two scrapes at once cannot
    /// interleave their refreshes.
    scrape: tokio::sync::Mutex<()>,
}

impl Metrics {
    /// A registry with every metric registered, reading its gauges from `sources`.
    pub fn new(sources: Sources) -> Metrics {
        let mut registry = Registry::with_prefix("setu");
        let rpc_requests = Family::<RpcLabels, Counter>::default();
        let rpc_duration = Family::<RpcLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let g = Gauges::default();
        registry.register(
            "rpc_requests",
            "gRPC calls handled, by method and status code",
            rpc_requests.clone(),
        );
        let refused_before_handler = Family::<RefusedLabels, Counter>::default();
        registry.register(
            "refused_before_handler",
            "gRPC calls refused before any handler saw them (undecodable or oversize requests, unknown methods), by method and status code",
            refused_before_handler.clone(),
        );
        let sync_envelopes = Family::<EnvelopeLabels, Counter>::default();
        registry.register(
            "sync_envelopes",
            "Envelopes pulled from each peer since start, by origin and outcome: received (signature verified), applied (new here) or ignored (already held); received from a peer more than once per change means a relay loop",
            sync_envelopes.clone(),
        );
        let link_bytes = Family::<LinkBytesLabels, Counter>::default();
        registry.register_with_unit(
            "sync_link",
            "Bytes of sync messages and photo chunks on each peer link since start (before transport compression), by class (live, catch-up, photos) and direction (in, out)",
            Unit::Bytes,
            link_bytes.clone(),
        );
        registry.register_with_unit(
            "rpc_duration",
            "Time to handle a gRPC call (for streams: until the stream is opened), by method and status code",
            Unit::Seconds,
            rpc_duration.clone(),
        );
        registry.register(
            "records",
            "Person records held, by origin district",
            g.records.clone(),
        );
        registry.register_with_unit(
            "database_size",
            "Size of the database on disk",
            Unit::Bytes,
            g.database_size.clone(),
        );
        registry.register(
            "storage_healthy",
            "1 when the last storage probe made a write durable, 0 when it failed",
            g.storage_healthy.clone(),
        );
        registry.register(
            "alerts_awaiting_ack",
            "Open alerts still waiting for an acknowledgement: outgoing (posted here, some target has not acknowledged) or incoming (sent here, this district has not acknowledged)",
            g.alerts_awaiting_ack.clone(),
        );
        registry.register(
            "alerts_overdue",
            "Open alerts whose acknowledgement deadline has passed without one (outgoing: for some target; incoming: for this district)",
            g.alerts_overdue.clone(),
        );
        registry.register(
            "sync_lag_changes",
            "Changes of an origin not yet applied on the other side of a peer link: in (the peer's changes this node has not applied) or out (this node's changes the peer has not reported applied)",
            g.sync_lag.clone(),
        );
        registry.register(
            "sync_applied_seq",
            "The highest sequence number of each origin applied from each peer (the watermark)",
            g.sync_applied.clone(),
        );
        registry.register(
            "sync_peer_connected",
            "1 while a sync stream from the peer is open",
            g.peer_connected.clone(),
        );
        registry.register_with_unit(
            "sync_peer_last_contact_timestamp",
            "When the last message came from the peer (Unix time; 0 never)",
            Unit::Seconds,
            g.peer_last_contact.clone(),
        );
        registry.register(
            "sync_peer_connections_last_hour",
            "How many times the pull link to the peer was established in the last hour (more than one means it reconnected)",
            g.peer_reconnects.clone(),
        );
        registry.register(
            "sync_peer_slow_link",
            "1 while a catch-up from the peer is not expected to finish within a minute at the rate seen",
            g.peer_slow_link.clone(),
        );
        registry.register_with_unit(
            "sync_oldest_undelivered_timestamp",
            "When the oldest of this node's changes (kind change) or alerts and acknowledgements (kind alert) not yet reported applied by the peer was signed (Unix time; 0 none)",
            Unit::Seconds,
            g.oldest_undelivered.clone(),
        );
        Metrics {
            registry,
            rpc_requests,
            rpc_duration,
            refused_before_handler,
            sync_envelopes,
            link_bytes,
            gauges: g,
            sources,
            scrape: tokio::sync::Mutex::new(()),
        }
    }

    /// Counts one finished call of `method` (e.g. `RecordService/Create`) with `code`, and
    /// its latency.
    pub fn record_rpc(&self, method: &'static str, code: tonic::Code, elapsed: Duration) {
        let labels = RpcLabels {
            method,
            code: crate::error::code_name(code),
        };
        self.rpc_requests.get_or_create(&labels).inc();
        self.rpc_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a call of `method` refused with `code` before any handler saw it.
    pub(crate) fn record_refused_before_handler(&self, method: &str, code: tonic::Code) {
        self.refused_before_handler
            .get_or_create(&RefusedLabels {
                method: method.to_string(),
                code: crate::error::code_name(code),
            })
            .inc();
    }

    /// Reads the gauges' sources and renders every metric as OpenMetrics text.
    pub async fn render(&self) -> Result<String, MetricsError> {
        let _one_at_a_time = self.scrape.lock().await;
        let sources = Snapshot::sources(&self.sources);
        let snapshot = tokio::task::spawn_blocking(move || sources.read())
            .await
            .map_err(|e| MetricsError::Task(e.to_string()))??;
        self.set_gauges(snapshot);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    fn set_gauges(&self, s: Snapshot) {
        let g = &self.gauges;
        g.records.clear();
        for (origin, count) in s.records_by_origin {
            g.records
                .get_or_create(&OriginLabels { origin })
                .set(saturating_i64(count));
        }
        g.database_size.set(saturating_i64(s.database_size));
        g.storage_healthy
            .set(i64::from(self.sources.health.storage_healthy()));
        for (direction, counts) in [
            ("outgoing", s.alerts.outgoing),
            ("incoming", s.alerts.incoming),
        ] {
            let labels = DirectionLabels { direction };
            g.alerts_awaiting_ack
                .get_or_create(&labels)
                .set(saturating_i64(counts.awaiting_ack));
            g.alerts_overdue
                .get_or_create(&labels)
                .set(saturating_i64(counts.overdue));
        }
        g.sync_lag.clear();
        g.sync_applied.clear();
        g.peer_connected.clear();
        g.peer_last_contact.clear();
        g.peer_reconnects.clear();
        g.peer_slow_link.clear();
        g.oldest_undelivered.clear();
        let own = &self.sources.district;
        for peer in s.peers {
            let mut lags = vec![
                (peer.district.clone(), "in", peer.lag_in),
                (own.clone(), "out", peer.lag_out),
            ];
            // Relayed origins too, so that a change stuck on its way through the mesh shows
            // at the link where it waits.
            lags.extend(
                peer.origin_lags
                    .iter()
                    .filter(|l| l.origin != peer.district)
                    .map(|l| (l.origin.clone(), "in", l.behind)),
            );
            for (origin, direction, lag) in lags {
                g.sync_lag
                    .get_or_create(&LagLabels {
                        peer: peer.district.clone(),
                        origin,
                        direction,
                    })
                    .set(saturating_i64(lag));
            }
            for w in &peer.watermarks {
                g.sync_applied
                    .get_or_create(&PeerOriginLabels {
                        peer: peer.district.clone(),
                        origin: w.origin.clone(),
                    })
                    .set(saturating_i64(w.seq));
            }
            let labels = PeerLabels {
                peer: peer.district.clone(),
            };
            g.peer_connected
                .get_or_create(&labels)
                .set(i64::from(peer.connected));
            g.peer_last_contact
                .get_or_create(&labels)
                .set(peer.last_contact_ms as f64 / 1000.0);
            g.peer_reconnects
                .get_or_create(&labels)
                .set(i64::from(peer.reconnects_last_hour));
            g.peer_slow_link
                .get_or_create(&labels)
                .set(i64::from(!peer.slow_link.is_empty()));
            for (kind, at_ms) in [
                ("change", peer.oldest_undelivered_change_ms),
                ("alert", peer.oldest_undelivered_alert_ms),
            ] {
                g.oldest_undelivered
                    .get_or_create(&UndeliveredLabels {
                        peer: peer.district.clone(),
                        kind,
                    })
                    .set(at_ms as f64 / 1000.0);
            }
            for bytes in &peer.link_bytes {
                for (direction, total) in [("in", bytes.bytes_in), ("out", bytes.bytes_out)] {
                    let counter = self.link_bytes.get_or_create(&LinkBytesLabels {
                        peer: peer.district.clone(),
                        class: bytes.class.clone(),
                        direction,
                    });
                    let seen = counter.get();
                    if total > seen {
                        counter.inc_by(total - seen);
                    }
                }
            }
            self.count_envelopes(&peer.district);
        }
    }

    /// Brings the envelope counters of `peer` up to the link's totals (which only grow
    /// while the node runs, as does this registry).
    fn count_envelopes(&self, peer: &str) {
        let link = self.sources.federation.status.get(peer);
        for (origin, counts) in link.envelopes {
            for (outcome, total) in [
                ("received", counts.received),
                ("applied", counts.applied),
                ("ignored", counts.ignored),
            ] {
                let counter = self.sync_envelopes.get_or_create(&EnvelopeLabels {
                    peer: peer.to_string(),
                    origin: origin.clone(),
                    outcome,
                });
                let seen = counter.get();
                if total > seen {
                    counter.inc_by(total - seen);
                }
            }
        }
    }
}

/// Times one gRPC call and counts it in the node's [`Metrics`], which the server's layer
/// puts in every request's extensions (a request without them, as in unit tests of the
/// handlers, is timed but not counted).
pub struct CallTimer {
    metrics: Option<Arc<Metrics>>,
    method: &'static str,
    started: Instant,
}

impl CallTimer {
    /// Starts timing `request`, a call of `method` (e.g. `RecordService/Create`).
    pub fn start<T>(request: &tonic::Request<T>, method: &'static str) -> CallTimer {
        CallTimer {
            metrics: request.extensions().get::<Arc<Metrics>>().cloned(),
            method,
            started: Instant::now(),
        }
    }

    /// Counts the call as finished with `code`; returns how long it took.
    pub fn record(&self, code: tonic::Code) -> Duration {
        let elapsed = self.started.elapsed();
        if let Some(metrics) = &self.metrics {
            metrics.record_rpc(self.method, code, elapsed);
        }
        elapsed
    }

    /// Counts the call with the outcome of `result`, and passes it on.
    pub fn finish<T>(self, result: Result<T, tonic::Status>) -> Result<T, tonic::Status> {
        self.record(match &result {
            Ok(_) => tonic::Code::Ok,
            Err(status) => status.code(),
        });
        result
    }
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Alerts waiting for an acknowledgement, of one direction.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AckCounts {
    /// Open alerts with a missing acknowledgement.
    pub awaiting_ack: u64,
    /// Of those, the alerts whose deadline has passed.
    pub overdue: u64,
}

/// Alerts waiting for acknowledgements, both ways.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AlertCounts {
    /// Alerts this district posted: some target has not acknowledged.
    pub outgoing: AckCounts,
    /// Alerts sent to this district that it has not acknowledged.
    pub incoming: AckCounts,
}

/// Counts the open alerts held by `storage` that wait for an acknowledgement, as the node
/// of `own` sees them at `now_ms` (judged by [`alert_view::view`], as `AlertService` does).
pub fn alert_counts(storage: &Storage, own: &str, now_ms: i64) -> StorageResult<AlertCounts> {
    let mut counts = AlertCounts::default();
    for root in storage.alert_roots()? {
        let thread = storage.alert_thread(&root.id)?;
        let Some(view) = alert_view::view(&thread, own, now_ms) else {
            continue;
        };
        if view.state != AlertState::Open as i32 {
            continue;
        }
        let waiting = view.targets.iter().filter(|t| t.ack.is_none());
        let (side, mut waiting) = if root.origin == own {
            (&mut counts.outgoing, waiting.collect::<Vec<_>>())
        } else {
            (
                &mut counts.incoming,
                waiting.filter(|t| t.district == own).collect(),
            )
        };
        if !waiting.is_empty() {
            side.awaiting_ack += 1;
        }
        waiting.retain(|t| t.overdue);
        if !waiting.is_empty() {
            side.overdue += 1;
        }
    }
    Ok(counts)
}

/// What the scrape-time gauges show, read in one blocking pass.
struct Snapshot {
    records_by_origin: BTreeMap<String, u64>,
    database_size: u64,
    alerts: AlertCounts,
    peers: Vec<PeerStatus>,
}

/// The handles a [`Snapshot`] is read through (cheap clones, moved to a blocking thread).
struct SnapshotSources {
    district: String,
    storage: Storage,
    federation: Arc<Federation>,
    now_ms: i64,
}

impl Snapshot {
    fn sources(s: &Sources) -> SnapshotSources {
        SnapshotSources {
            district: s.district.clone(),
            storage: s.storage.clone(),
            federation: s.federation.clone(),
            now_ms: s.clock.now_ms(),
        }
    }
}

impl SnapshotSources {
    fn read(self) -> StorageResult<Snapshot> {
        Ok(Snapshot {
            records_by_origin: self.storage.records_by_origin()?,
            database_size: self.storage.size_on_disk()?,
            alerts: alert_counts(&self.storage, &self.district, self.now_ms)?,
            peers: self.federation.peer_statuses()?,
        })
    }
}
