//! A TCP proxy inside the test, to put between two federated nodes and shape the link:
//! [`TcpProxy::cut`] drops every connection through it and refuses new ones (they are
//! accepted and closed at once, as a broken network would), [`TcpProxy::heal`] lets traffic
//! through again. Beyond cutting, it simulates a district's thin WAN link
//! ([`LinkShape`]): a bandwidth per direction (a token bucket shared by every connection
//! through the proxy, as one physical link is), an added one-way delay, flapping (down for
//! a while at a fixed period, [`TcpProxy::flap`]) and a black hole
//! ([`TcpProxy::black_hole`]: connections are accepted but nothing is forwarded). It counts
//! the bytes it forwards in each direction.
//!
//! The bytes are forwarded untouched, so mutual TLS runs end to end between the nodes. It
//! listens on loopback only, holds at most a bounded number of chunks per connection and
//! direction, and stops by itself when dropped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// The most bytes read at once; on a throttled link also the largest burst.
const CHUNK: usize = 16 * 1024;
/// Chunks in flight per connection and direction (the delay line's length).
const IN_FLIGHT: usize = 256;

/// The shape of the simulated link.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinkShape {
    /// Bytes per second from the dialling side to the target (`None`: unlimited).
    pub up_bytes_per_sec: Option<u64>,
    /// Bytes per second from the target back to the dialling side (`None`: unlimited).
    pub down_bytes_per_sec: Option<u64>,
    /// One-way delay added to every chunk, in both directions.
    pub delay: Duration,
}

impl LinkShape {
    /// A link that passes `bytes_per_sec` in each direction.
    pub fn throttled(bytes_per_sec: u64) -> LinkShape {
        LinkShape {
            up_bytes_per_sec: Some(bytes_per_sec),
            down_bytes_per_sec: Some(bytes_per_sec),
            delay: Duration::ZERO,
        }
    }
}

/// Which way bytes go through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// From the dialling side to the target.
    Up,
    /// From the target to the dialling side.
    Down,
}

/// A token bucket shared by every connection of one direction. The async mutex is fair,
/// so connections take their turns in order and a small write waits for at most the
/// chunks queued before it, as on one physical link.
struct TokenBucket {
    rate: f64,
    state: tokio::sync::Mutex<(f64, Instant)>,
}

impl TokenBucket {
    fn new(bytes_per_sec: u64) -> TokenBucket {
        TokenBucket {
            rate: bytes_per_sec.max(1) as f64,
            state: tokio::sync::Mutex::new((CHUNK as f64, Instant::now())),
        }
    }

    /// Waits until `n` bytes may pass.
    async fn take(&self, n: usize) {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        let (tokens, last) = &mut *state;
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(CHUNK as f64);
        *last = now;
        *tokens -= n as f64;
        if *tokens < 0.0 {
            let wait = Duration::from_secs_f64(-*tokens / self.rate);
            // Held while sleeping: the next connection's chunk goes after this one.
            tokio::time::sleep(wait).await; // sleep-ok: the throttle paces the bytes
            *tokens = 0.0;
            *last = Instant::now();
        }
    }
}

/// What every connection of one proxy shares: the link's shape, its switches and counters.
struct Link {
    target: SocketAddr,
    delay: Duration,
    up: Option<TokenBucket>,
    down: Option<TokenBucket>,
    cut: watch::Sender<bool>,
    black_hole: watch::Sender<bool>,
    forwarded: AtomicUsize,
    refused: AtomicUsize,
    cuts: AtomicUsize,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
}

impl Link {
    fn bucket(&self, direction: Direction) -> Option<&TokenBucket> {
        match direction {
            Direction::Up => self.up.as_ref(),
            Direction::Down => self.down.as_ref(),
        }
    }

    fn count(&self, direction: Direction, n: usize) {
        let counter = match direction {
            Direction::Up => &self.bytes_up,
            Direction::Down => &self.bytes_down,
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// A TCP proxy from a loopback port to `target`, running until dropped.
pub struct TcpProxy {
    addr: SocketAddr,
    link: Arc<Link>,
    task: JoinHandle<()>,
    flapping: Mutex<Option<JoinHandle<()>>>,
}

impl TcpProxy {
    /// Listens on `127.0.0.1:0` and forwards each connection to `target`, unshaped. The
    /// target need not be listening yet: a connection it refuses is closed.
    pub async fn start(target: SocketAddr) -> anyhow::Result<TcpProxy> {
        TcpProxy::start_shaped(target, LinkShape::default()).await
    }

    /// Like [`TcpProxy::start`], over a link of the given shape.
    pub async fn start_shaped(target: SocketAddr, shape: LinkShape) -> anyhow::Result<TcpProxy> {
        anyhow::ensure!(
            target.ip().is_loopback(),
            "the proxy forwards to loopback only"
        );
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the proxy")?;
        let addr = listener.local_addr()?;
        let link = Arc::new(Link {
            target,
            delay: shape.delay,
            up: shape.up_bytes_per_sec.map(TokenBucket::new),
            down: shape.down_bytes_per_sec.map(TokenBucket::new),
            cut: watch::channel(false).0,
            black_hole: watch::channel(false).0,
            forwarded: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            cuts: AtomicUsize::new(0),
            bytes_up: AtomicU64::new(0),
            bytes_down: AtomicU64::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, link.clone()));
        Ok(TcpProxy {
            addr,
            link,
            task,
            flapping: Mutex::new(None),
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
        self.link.target
    }

    /// Drops every open connection and refuses new ones until [`TcpProxy::heal`].
    pub fn cut(&self) {
        if !self.link.cut.send_replace(true) {
            self.link.cuts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Lets connections through again.
    pub fn heal(&self) {
        self.link.cut.send_replace(false);
    }

    /// Whether the link is cut.
    pub fn is_cut(&self) -> bool {
        *self.link.cut.borrow()
    }

    /// How many times the link was cut (by [`TcpProxy::cut`] or by flapping).
    pub fn cuts(&self) -> usize {
        self.link.cuts.load(Ordering::Relaxed)
    }

    /// With `on`, connections stay open and new ones are accepted, but no byte is forwarded
    /// either way (what is sent waits in the proxy and the sockets) until it is turned off
    /// again.
    pub fn black_hole(&self, on: bool) {
        self.link.black_hole.send_replace(on);
    }

    /// Flaps the link: every `period` it goes down (cut) for `down`, then heals, until
    /// [`TcpProxy::stop_flapping`] or the proxy is dropped. The first cut comes
    /// `period - down` from now.
    pub fn flap(&self, period: Duration, down: Duration) {
        let link = self.link.clone();
        let up = period.saturating_sub(down);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(up).await; // sleep-ok: the simulated link's schedule
                if !link.cut.send_replace(true) {
                    link.cuts.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(down).await; // sleep-ok: the simulated link's schedule
                link.cut.send_replace(false);
            }
        });
        if let Some(old) = self.flapping.lock().expect("flap lock").replace(task) {
            old.abort();
        }
    }

    /// Stops flapping and leaves the link up.
    pub fn stop_flapping(&self) {
        if let Some(task) = self.flapping.lock().expect("flap lock").take() {
            task.abort();
        }
        self.heal();
    }

    /// Connections forwarded so far.
    pub fn forwarded(&self) -> usize {
        self.link.forwarded.load(Ordering::Relaxed)
    }

    /// Connections refused (accepted and closed at once) while cut.
    pub fn refused(&self) -> usize {
        self.link.refused.load(Ordering::Relaxed)
    }

    /// Bytes forwarded from the dialling side to the target.
    pub fn bytes_up(&self) -> u64 {
        self.link.bytes_up.load(Ordering::Relaxed)
    }

    /// Bytes forwarded from the target to the dialling side.
    pub fn bytes_down(&self) -> u64 {
        self.link.bytes_down.load(Ordering::Relaxed)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        // The accept loop owns the connection tasks: aborting it drops them all.
        self.task.abort();
        if let Ok(mut flapping) = self.flapping.lock() {
            if let Some(task) = flapping.take() {
                task.abort();
            }
        }
    }
}

async fn accept_loop(listener: TcpListener, link: Arc<Link>) {
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
        if *link.cut.borrow() {
            link.refused.fetch_add(1, Ordering::Relaxed);
            drop(inbound);
            continue;
        }
        link.forwarded.fetch_add(1, Ordering::Relaxed);
        connections.spawn(forward(inbound, link.clone()));
    }
}

/// Copies bytes both ways, shaped, until both sides close or the link is cut; then both
/// sockets are dropped (closed).
async fn forward(inbound: TcpStream, link: Arc<Link>) {
    let Ok(outbound) = TcpStream::connect(link.target).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let mut cut = link.cut.subscribe();
    let (in_read, in_write) = inbound.into_split();
    let (out_read, out_write) = outbound.into_split();
    tokio::select! {
        _ = async {
            tokio::join!(
                pump(in_read, out_write, &link, Direction::Up),
                pump(out_read, in_write, &link, Direction::Down),
            )
        } => {}
        _ = cut.wait_for(|cut| *cut) => {}
    }
}

/// One direction of a connection: reads chunks, takes the link's tokens for them, and
/// hands them to a writer that sends each once its delay has passed.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, link: &Link, direction: Direction) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(IN_FLIGHT);
    let mut black_hole = link.black_hole.subscribe();
    let reader = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            // Held, not forwarded, while the link is a black hole.
            if black_hole.wait_for(|on| !*on).await.is_err() {
                return;
            }
            if let Some(bucket) = link.bucket(direction) {
                bucket.take(n).await;
            }
            if tx
                .send((Instant::now() + link.delay, buf[..n].to_vec()))
                .await
                .is_err()
            {
                return;
            }
        }
    };
    let writer = async {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await; // sleep-ok: the added delay of the simulated link
            if to.write_all(&bytes).await.is_err() {
                return;
            }
            link.count(direction, bytes.len());
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server on loopback; returns its address.
    async fn echo() -> anyhow::Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = socket.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        Ok(addr)
    }

    async fn round_trip(stream: &mut TcpStream, bytes: &[u8]) -> anyhow::Result<()> {
        let (mut r, mut w) = stream.split();
        let mut back = vec![0u8; bytes.len()];
        let (written, read) = tokio::join!(w.write_all(bytes), r.read_exact(&mut back));
        written?;
        read?;
        anyhow::ensure!(back == bytes, "the echo differs");
        Ok(())
    }

    #[tokio::test]
    async fn a_throttled_link_passes_no_more_than_its_rate_and_counts_both_ways(
    ) -> anyhow::Result<()> {
        let proxy = TcpProxy::start_shaped(echo().await?, LinkShape::throttled(128 * 1024)).await?;
        let mut stream = TcpStream::connect(proxy.addr()).await?;
        let bytes = vec![7u8; 256 * 1024];
        let started = Instant::now();
        round_trip(&mut stream, &bytes).await?;
        // 256 KiB at 128 KiB/s, less the first burst: at least 1.8 s.
        assert!(
            started.elapsed() >= Duration::from_millis(1800),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(proxy.bytes_up(), bytes.len() as u64);
        assert_eq!(proxy.bytes_down(), bytes.len() as u64);
        Ok(())
    }

    #[tokio::test]
    async fn a_black_hole_forwards_nothing_until_lifted() -> anyhow::Result<()> {
        let proxy = TcpProxy::start(echo().await?).await?;
        let mut stream = TcpStream::connect(proxy.addr()).await?;
        round_trip(&mut stream, b"before").await?;
        proxy.black_hole(true);
        stream.write_all(b"during").await?;
        let mut back = [0u8; 6];
        let nothing =
            tokio::time::timeout(Duration::from_millis(300), stream.read_exact(&mut back)).await;
        assert!(nothing.is_err(), "nothing comes back through a black hole");
        assert_eq!(proxy.bytes_up(), 6);
        proxy.black_hole(false);
        stream.read_exact(&mut back).await?;
        assert_eq!(&back, b"during");
        Ok(())
    }

    #[tokio::test]
    async fn a_flapping_link_cuts_open_connections() -> anyhow::Result<()> {
        let proxy = TcpProxy::start(echo().await?).await?;
        let mut stream = TcpStream::connect(proxy.addr()).await?;
        round_trip(&mut stream, b"hello").await?;
        proxy.flap(Duration::from_millis(200), Duration::from_millis(100));
        let mut buf = [0u8; 1];
        // The proxy closes the connection at the first cut.
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await?;
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        assert!(proxy.cuts() >= 1);
        proxy.stop_flapping();
        assert!(!proxy.is_cut());
        Ok(())
    }
}
