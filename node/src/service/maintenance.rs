//! `setu.v1.MaintenanceService`: backups taken while the node serves. `setu-node backup`
//! on the node's host calls it with the node's own certificate (whoever can read the
//! node's key can read its data folder anyway); admins of the district may call it too.
//! Every backup, refused or not, is in the audit trail.

use super::SharedState;
use crate::error::{NodeError, NodeResult};
use crate::storage::StorageError;
use crate::trust::auth;
use crate::trust::identity::Identity;
use setu_proto::v1::maintenance_service_server::MaintenanceService;
use setu_proto::v1::{AuditEntry, BackupChunk, BackupDone, BackupRequest};
use std::io::{Seek, SeekFrom};
use std::pin::Pin;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

/// Bytes per streamed chunk.
const CHUNK: usize = 256 * 1024;

/// The maintenance service of one node.
pub struct MaintenanceServiceImpl {
    state: SharedState,
}

/// The stream type of `Backup`.
pub type BackupStream = Pin<Box<dyn Stream<Item = Result<BackupChunk, Status>> + Send>>;

/// A writer that sends what it is given as chunks down the response stream.
struct ChunkSender {
    tx: mpsc::Sender<Result<BackupChunk, Status>>,
    buf: Vec<u8>,
}

impl ChunkSender {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut self.buf);
        self.tx
            .blocking_send(Ok(BackupChunk { data, done: None }))
            .map_err(|_| std::io::Error::other("the backup's receiver went away"))
    }
}

impl std::io::Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

impl MaintenanceServiceImpl {
    /// A service over the node's state.
    pub fn new(state: SharedState) -> Self {
        MaintenanceServiceImpl { state }
    }

    /// The node's own certificate or an admin of its district, not on the deny-list; the
    /// audit entry for the call (naming the caller even when refused).
    fn authorise(
        &self,
        identity: NodeResult<Identity>,
        denied: NodeResult<()>,
    ) -> (NodeResult<()>, AuditEntry) {
        let mut entry = AuditEntry {
            officer: super::UNKNOWN_OFFICER.to_string(),
            action: "maintenance.backup".to_string(),
            method: "MaintenanceService/Backup".to_string(),
            at_ms: crate::clock::now_ms(),
            ..Default::default()
        };
        let district = &self.state.district;
        let verdict = match identity {
            Ok(Identity::Node { district: node }) => {
                entry.district = node.clone();
                entry.role = "node".to_string();
                entry.officer = format!("node {node}");
                if node == *district {
                    Ok(())
                } else {
                    Err(NodeError::PermissionDenied(format!(
                        "only {district}'s own node certificate or its admins may back it up; this is {node}'s"
                    )))
                }
            }
            Ok(Identity::Officer(officer)) => {
                entry.officer = officer.badge.clone();
                entry.officer_name = officer.name.clone();
                entry.district = officer.district.clone();
                entry.role = officer.role.to_string();
                auth::require_admin(&officer, "a backup").and_then(|()| {
                    auth::require_owner(&officer, district, district, "this node's database")
                })
            }
            Err(e) => Err(e),
        };
        (denied.and(verdict), entry)
    }
}

#[tonic::async_trait]
impl MaintenanceService for MaintenanceServiceImpl {
    type BackupStream = BackupStream;

    async fn backup(
        &self,
        request: Request<BackupRequest>,
    ) -> Result<Response<Self::BackupStream>, Status> {
        super::refusals::handler_reached(&request);
        let identity = auth::identify(&request);
        let district = self.state.district.clone();
        let denied = match &identity {
            Ok(id) => auth::check_vouched(&request, id, &district)
                .and_then(|()| auth::check_deny(&request, id)),
            Err(_) => Ok(()),
        };
        let disowned = matches!(denied, Err(NodeError::Unauthenticated(_)));
        let claimed = identity.as_ref().ok().cloned();
        let (verdict, mut entry) = self.authorise(identity, denied);
        if let (true, Some(claimed)) = (disowned, &claimed) {
            super::disown(&mut entry, claimed);
        }
        let storage = self.state.storage.clone();
        if let Err(e) = verdict {
            let status = Status::from(e);
            entry.outcome = super::note::code_name(status.code()).to_string();
            storage
                .append_audit(entry)
                .map_err(|e| Status::from(NodeError::from(e)))?;
            storage
                .flush()
                .await
                .map_err(|e| Status::from(NodeError::from(e)))?;
            return Err(status);
        }
        entry.outcome = "OK".to_string();
        storage
            .append_audit(entry.clone())
            .map_err(|e| Status::from(NodeError::from(e)))?;
        storage
            .flush()
            .await
            .map_err(|e| Status::from(NodeError::from(e)))?;
        tracing::info!(by = %entry.officer, "backup started");
        let (tx, rx) = mpsc::channel(8);
        let spool_dir = self.state.data_dir.clone();
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            // The copy goes to an unlinked spool file first and is streamed afterwards:
            // while the copy holds off writes, it must not wait on the client (a write
            // blocked on the store could be holding the very runtime thread that sends).
            let spooled = tempfile::tempfile_in(&spool_dir)
                .map_err(|e| {
                    StorageError::Backend(format!(
                        "cannot create the backup's spool file in {}: {e}",
                        spool_dir.display()
                    ))
                })
                .and_then(|mut file| {
                    let summary = storage.backup(&mut file)?;
                    file.seek(SeekFrom::Start(0))
                        .map_err(|e| StorageError::Backend(format!("backup spool: {e}")))?;
                    Ok((summary, file))
                });
            let result = spooled.and_then(|(summary, mut file)| {
                let mut sender = ChunkSender {
                    tx: tx.clone(),
                    buf: Vec::with_capacity(CHUNK),
                };
                std::io::copy(&mut file, &mut sender)
                    .and_then(|_| sender.send())
                    .map_err(|e| StorageError::Backend(format!("sending the backup: {e}")))?;
                Ok(summary)
            });
            match result {
                Ok(summary) => {
                    tracing::info!(
                        entries = summary.entries,
                        bytes = summary.bytes,
                        ms = started.elapsed().as_millis() as u64,
                        "backup finished"
                    );
                    let _ = tx.blocking_send(Ok(BackupChunk {
                        data: Vec::new(),
                        done: Some(BackupDone {
                            district: summary.district,
                            epoch: summary.epoch,
                            taken_at_ms: summary.taken_at_ms,
                            entries: summary.entries,
                            bytes: summary.bytes,
                        }),
                    }));
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(NodeError::from(e).into()));
                }
            }
        });
        let stream: BackupStream = Box::pin(ReceiverStream::new(rx));
        Ok(Response::new(stream))
    }
}
