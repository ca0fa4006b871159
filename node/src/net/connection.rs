//! The node's TLS connections, both ways: the accept loop behind the gRPC server and the
//! dialler of peer links, each taking the TLS settings current at that moment from
//! [`TlsState`], so that a reload changes new connections only.
//!
//! Incoming: a `TcpListener` whose connections are handshaken in tasks of their own, each
//! with a deadline, so a slow or silent client never holds up the others; refused
//! handshakes are logged and dropped. Client certificates are required and verified against
//! every trusted CA bundle in the handshake (see [`crate::net::tls`]); the streams handed to
//! tonic are tokio-rustls streams, for which tonic provides the peer certificates to
//! `Request::peer_certs`.
//!
//! Outgoing: a connector for tonic's `Endpoint` that dials a peer, pins the name
//! `<district>.node.setu` in the handshake, refuses a peer certificate on the deny-list and
//! records the peer certificate's expiry for `setu peers`.
//!
//! Both wrap the stream in [`Guarded`], which closes the connection once a reload puts its
//! peer's certificate on the deny-list (ending, say, an alert watch of a stolen laptop).

use crate::net::reload::TlsState;
use crate::trust::cert::CertFacts;
use crate::trust::deny::{Denial, DenyList};
use crate::trust::identity::node_dns_name;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;
use tonic::transport::Uri;

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the accept loop pauses after the listener fails (for instance when the process
/// is out of file descriptors), so that it does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// A connection that ends once its peer's certificate is put on the deny-list.
pub struct Guarded<IO> {
    inner: IO,
    /// Resolves with the entry that names the peer's certificate, after a reload.
    revoked: Pin<Box<dyn Future<Output = Denial> + Send>>,
    /// Set once revoked: every read and write fails from then on.
    denial: Option<Denial>,
    /// Who is at the other end, for the log.
    peer: String,
}

impl<IO> Guarded<IO> {
    /// Wraps `inner`, whose peer presented a certificate with `facts` (none: never closed).
    fn new(
        inner: IO,
        mut deny: watch::Receiver<Arc<DenyList>>,
        facts: Option<CertFacts>,
        peer: String,
    ) -> Guarded<IO> {
        // The list in force now was checked (or will be, on the first call); only a later
        // change closes the connection, so a denied caller still gets an audited refusal.
        deny.borrow_and_update();
        let revoked = Box::pin(async move {
            let Some(facts) = facts else {
                return std::future::pending().await;
            };
            loop {
                if deny.changed().await.is_err() {
                    return std::future::pending().await;
                }
                let denial = deny.borrow_and_update().check(&facts);
                if let Some(denial) = denial {
                    return denial;
                }
            }
        });
        Guarded {
            inner,
            revoked,
            denial: None,
            peer,
        }
    }

    /// Whether the connection is revoked; registers the waker for a later deny-list change.
    fn is_revoked(&mut self, cx: &mut Context<'_>) -> bool {
        if self.denial.is_some() {
            return true;
        }
        if let Poll::Ready(denial) = self.revoked.as_mut().poll(cx) {
            tracing::warn!(peer = %self.peer, %denial, "closing a connection: its certificate was put on the deny-list");
            self.denial = Some(denial);
            return true;
        }
        false
    }

    fn revoked_error(&self) -> io::Error {
        let text = match &self.denial {
            Some(denial) => denial.to_string(),
            None => "the certificate is on this node's deny-list".to_string(),
        };
        io::Error::new(io::ErrorKind::ConnectionAborted, text)
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Guarded<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.is_revoked(cx) {
            return Poll::Ready(Err(this.revoked_error()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Guarded<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.is_revoked(cx) {
            return Poll::Ready(Err(this.revoked_error()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.is_revoked(cx) {
            return Poll::Ready(Err(this.revoked_error()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<IO: Connected> Connected for Guarded<IO> {
    // The inner stream's info: for a tokio-rustls server stream this is what
    // `Request::peer_certs` reads.
    type ConnectInfo = IO::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

/// An incoming connection, handshaken.
pub type Incoming = Guarded<tokio_rustls::server::TlsStream<TcpStream>>;

/// Accepts connections on `listener` and handshakes each in its own task with the server
/// settings current at that moment; the stream ends (and the listener closes) when the
/// server drops it.
pub fn incoming(listener: TcpListener, tls: Arc<TlsState>) -> ReceiverStream<io::Result<Incoming>> {
    let (tx, rx) = mpsc::channel(64);
    crate::spawn(accept_loop(listener, tls, tx));
    ReceiverStream::new(rx)
}

async fn accept_loop(
    listener: TcpListener,
    tls: Arc<TlsState>,
    tx: mpsc::Sender<io::Result<Incoming>>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = tx.closed() => return,
        };
        let (tcp, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(%remote, error = %e, "cannot set TCP_NODELAY");
        }
        let acceptor = TlsAcceptor::from(tls.server_config());
        let deny = tls.watch_deny();
        let tx = tx.clone();
        crate::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let facts = leaf_facts(stream.get_ref().1.peer_certificates());
                    let guarded = Guarded::new(stream, deny, facts, remote.to_string());
                    let _ = tx.send(Ok(guarded)).await;
                }
                Ok(Err(e)) => log_refused_handshake(remote, &e),
                Err(_) => {
                    tracing::debug!(%remote, "TLS handshake not completed in time; connection dropped")
                }
            }
        });
    }
}

/// Logs a failed handshake: at info when the certificate (or TLS itself) was refused, at
/// debug when the client merely went away.
fn log_refused_handshake(remote: SocketAddr, error: &io::Error) {
    let tls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls_error {
        Some(e) => tracing::info!(%remote, error = %e, "TLS handshake refused"),
        None => tracing::debug!(%remote, %error, "TLS handshake failed"),
    }
}

/// Serial, fingerprint and expiry of the first (leaf) certificate of a chain.
fn leaf_facts(chain: Option<&[rustls::pki_types::CertificateDer<'_>]>) -> Option<CertFacts> {
    chain
        .and_then(|certs| certs.first())
        .and_then(|leaf| CertFacts::of_der(leaf.as_ref()).ok())
}

/// Told of each peer node certificate a dial sees (the federation keeps it for `setu peers`
/// and the expiry watch), so that the network layer needs nothing of the federation.
pub trait PeerCertSink: Send + Sync {
    /// The node of `district` presented `facts` in a handshake.
    fn saw_peer_cert(&self, district: &str, facts: &CertFacts);
}

/// An outgoing connection to a peer node.
pub type Outgoing = TokioIo<Guarded<tokio_rustls::client::TlsStream<TcpStream>>>;

/// Dials one peer for tonic's `Endpoint::connect_with_connector`: TCP to the configured
/// address, then TLS with the dial settings current at that moment.
#[derive(Clone)]
pub struct PeerConnector {
    tls: Arc<TlsState>,
    seen: Arc<dyn PeerCertSink>,
    /// The peer's district; its certificate must carry `<district>.node.setu`.
    district: String,
    /// Host and port from the peer's configured address.
    host: String,
    port: u16,
}

impl PeerConnector {
    /// A connector for the peer `district` at `address` (`https://host:port`).
    pub fn new(
        tls: Arc<TlsState>,
        seen: Arc<dyn PeerCertSink>,
        district: &str,
        address: &Uri,
    ) -> Result<PeerConnector, String> {
        let host = address
            .host()
            .ok_or_else(|| format!("peer {district} address has no host"))?;
        // An IPv6 literal comes bracketed from the URI; the socket wants it bare.
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(PeerConnector {
            tls,
            seen,
            district: district.to_string(),
            host,
            port: address.port_u16().unwrap_or(443),
        })
    }

    async fn dial(self) -> io::Result<Outgoing> {
        let config = self.tls.dial_config(&self.district).ok_or_else(|| {
            io::Error::other(format!("no TLS settings for peer {}", self.district))
        })?;
        let name = ServerName::try_from(node_dns_name(&self.district))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let tcp = TcpStream::connect((self.host.as_str(), self.port)).await?;
        tcp.set_nodelay(true)?;
        let deny = self.tls.watch_deny();
        let stream = TlsConnector::from(config).connect(name, tcp).await?;
        let facts = leaf_facts(stream.get_ref().1.peer_certificates());
        if let Some(facts) = &facts {
            if let Some(denial) = self.tls.deny().check(facts) {
                tracing::warn!(peer = %self.district, %denial, "refused to pull from a peer whose node certificate is on the deny-list");
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!("the peer's node {denial}"),
                ));
            }
            self.seen.saw_peer_cert(&self.district, facts);
        }
        Ok(TokioIo::new(Guarded::new(
            stream,
            deny,
            facts,
            format!("peer {}", self.district),
        )))
    }
}

impl tower_service::Service<Uri> for PeerConnector {
    type Response = Outgoing;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Outgoing>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        Box::pin(self.clone().dial())
    }
}
