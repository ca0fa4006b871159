//! A TCP proxy inside the test, to put between two federated nodes and cut the link at
//! will: [`TcpProxy::cut`] drops every connection through it and refuses new ones (they
//! are accepted and closed at once, as a broken network would), [`TcpProxy::heal`] lets
//! traffic through again. The bytes are forwarded untouched, so mutual TLS runs end to end
//! between the nodes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// Counters of what went through a proxy.
#[derive(Debug, Default)]
struct Counters {
    forwarded: AtomicUsize,
    refused: AtomicUsize,
}

/// A TCP proxy from a loopback port to `target`, running until dropped.
pub struct TcpProxy {
    addr: SocketAddr,
    target: SocketAddr,
    cut: watch::Sender<bool>,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on `127.0.0.1:0` and forwards each connection to `target`. The target need
    /// not be listening yet: a connection it refuses is closed.
    pub async fn start(target: SocketAddr) -> anyhow::Result<TcpProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the proxy")?;
        let addr = listener.local_addr()?;
        let (cut, cut_rx) = watch::channel(false);
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(accept_loop(listener, target, cut_rx, counters.clone()));
        Ok(TcpProxy {
            addr,
            target,
            cut,
            counters,
            task,
        })
    }

    /// The proxy's own address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` of the proxy, for a peer's `address`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Where the proxy forwards to.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// Drops every open connection and refuses new ones until [`TcpProxy::heal`].
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Lets connections through again.
    pub fn heal(&self) {
        self.cut.send_replace(false);
    }

    /// Whether the link is cut.
    pub fn is_cut(&self) -> bool {
        *self.cut.borrow()
    }

    /// Connections forwarded so far.
    pub fn forwarded(&self) -> usize {
        self.counters.forwarded.load(Ordering::Relaxed)
    }

    /// Connections refused (accepted and closed at once) while cut.
    pub fn refused(&self) -> usize {
        self.counters.refused.load(Ordering::Relaxed)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        // The accept loop owns the connection tasks: aborting it drops them all.
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    cut: watch::Receiver<bool>,
    counters: Arc<Counters>,
) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // Reap finished connection tasks so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let Ok((inbound, _)) = accepted else {
            continue;
        };
        if *cut.borrow() {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            drop(inbound);
            continue;
        }
        counters.forwarded.fetch_add(1, Ordering::Relaxed);
        connections.spawn(forward(inbound, target, cut.clone()));
    }
}

/// Copies bytes both ways until either side closes or the link is cut; then both sockets
/// are dropped (closed).
async fn forward(mut inbound: TcpStream, target: SocketAddr, mut cut: watch::Receiver<bool>) {
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
        _ = cut.wait_for(|cut| *cut) => {}
    }
}
