//! The accept loop of `waymark serve`: HTTP/1 connections served by hyper, each
//! watched for idleness, slowness and stalled writes, under a cap on how many are
//! open, with a shutdown that ends in a bounded time.
//!
//! Written here rather than taken from a crate: `axum::serve` has no timeout and no
//! cap (issue 12: 5,000 silent sockets stayed open past 40 s, ~20,000 exhausted the
//! file limit, a half-sent request held shutdown 46 s). hyper's HTTP/1 builder has a
//! header-read timeout, but no keep-alive idle timeout, no timeout on a client that
//! stops reading its answer, and nothing that closes an idle connection to make room
//! for a new one; a plain cap (tower's `ConcurrencyLimit`, a semaphore on accept)
//! would turn honest clients away while idle sockets hold every slot. So each
//! connection's state (requests in service, since when idle, since when its writes
//! stall) is kept in a registry, and the loop evicts the connection that has made no
//! progress the longest when a new one arrives at the cap.

use super::{plain_problem, Limits};
use axum::body::{Body, Bytes};
use axum::Router;
use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// One connection's progress, shared by its task, its I/O and its requests.
struct Conn {
    id: u64,
    /// Requests in service: from their headers until their answer's body is handed
    /// over (or dropped).
    busy: AtomicUsize,
    /// When (ms on the registry's clock) it last had nothing in service.
    idle_since: AtomicU64,
    /// Whether a byte of the next request arrived since `idle_since` (then the
    /// header-read timeout applies, else the idle timeout).
    reading: AtomicBool,
    /// Since when its writes find the socket full (0: they do not).
    stalled_since: AtomicU64,
    /// Whether it has had a request in service: at the cap, connections that never
    /// sent a whole request (idle or slow sockets) are closed before kept-alive
    /// ones, so that an honest client between two requests keeps its connection.
    served: AtomicBool,
    evicted: AtomicBool,
    evict: Notify,
}

impl Conn {
    /// When the connection stopped making progress, if it is evictable: idle or
    /// reading a request's headers (not in service), or its client stopped reading.
    /// The key orders the connections to close first: never served, then longest
    /// stuck.
    fn stuck_since(&self) -> Option<(bool, u64)> {
        let served = self.served.load(Ordering::Acquire);
        let stalled = self.stalled_since.load(Ordering::Acquire);
        if stalled != 0 {
            return Some((served, stalled));
        }
        (self.busy.load(Ordering::Acquire) == 0)
            .then(|| (served, self.idle_since.load(Ordering::Acquire)))
    }

    /// The time (ms) at which it is to be closed if nothing changes before.
    fn deadline(&self, limits: &Limits, now: u64) -> u64 {
        let ms = |d: Duration| d.as_millis() as u64;
        let mut at = u64::MAX;
        let stalled = self.stalled_since.load(Ordering::Acquire);
        if stalled != 0 {
            at = stalled + ms(limits.write_timeout);
        }
        if self.busy.load(Ordering::Acquire) == 0 {
            let limit = if self.reading.load(Ordering::Acquire) {
                limits.header_read_timeout
            } else {
                limits.idle_timeout
            };
            at = at.min(self.idle_since.load(Ordering::Acquire) + ms(limit));
        }
        // In service and writing: look again in a second (a write may stall).
        at.min(now + 1000)
    }
}

/// The open connections.
struct Registry {
    epoch: Instant,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Open and not evicted.
    live: AtomicUsize,
}

impl Registry {
    /// Milliseconds since the server started, from 1 (0 means "not set").
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    fn add(&self, id: u64) -> Arc<Conn> {
        let now = self.now();
        let conn = Arc::new(Conn {
            id,
            busy: AtomicUsize::new(0),
            idle_since: AtomicU64::new(now),
            reading: AtomicBool::new(false),
            stalled_since: AtomicU64::new(0),
            served: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            evict: Notify::new(),
        });
        self.live.fetch_add(1, Ordering::AcqRel);
        self.lock().insert(id, conn.clone());
        conn
    }

    fn remove(&self, conn: &Conn) {
        self.lock().remove(&conn.id);
        if !conn.evicted.swap(true, Ordering::AcqRel) {
            self.live.fetch_sub(1, Ordering::AcqRel);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes the connection that has made no progress the longest, if one is idle,
    /// half-way through its headers, or not reading its answer; `false` when every
    /// connection is in service.
    fn evict_one(&self) -> bool {
        let victim = self
            .lock()
            .values()
            .filter(|c| !c.evicted.load(Ordering::Acquire))
            .filter_map(|c| c.stuck_since().map(|t| (t, c.clone())))
            .min_by_key(|(t, _)| *t)
            .map(|(_, c)| c);
        let Some(c) = victim else { return false };
        if !c.evicted.swap(true, Ordering::AcqRel) {
            self.live.fetch_sub(1, Ordering::AcqRel);
        }
        c.evict.notify_one();
        true
    }
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting,
/// closes idle connections at once, lets those in service finish for at most
/// `limits.shutdown_grace`, and drops whatever is left.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let registry = Arc::new(Registry {
        epoch: Instant::now(),
        conns: Mutex::new(HashMap::new()),
        live: AtomicUsize::new(0),
    });
    let limits = Arc::new(limits);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;
    tokio::pin!(shutdown);
    loop {
        while tasks.try_join_next().is_some() {}
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors (EMFILE) or a connection reset before
                    // it was accepted: free a descriptor held by an idle connection
                    // and try again, instead of spinning or giving up.
                    tracing::warn!(error = %e, "accept failed");
                    registry.evict_one();
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        };
        if registry.live.load(Ordering::Acquire) >= limits.max_connections && !registry.evict_one()
        {
            tasks.spawn(refuse(stream, limits.max_connections));
            continue;
        }
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let conn = registry.add(next_id);
        tasks.spawn(connection(
            stream,
            conn,
            registry.clone(),
            router.clone(),
            limits.clone(),
            stop_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_grace, drained)
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?limits.shutdown_grace,
            "shutdown: closing the connections still open after the grace period"
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

/// Answers 503 (problem+json) to a connection past the cap and closes it, reading
/// what the client sent for at most a second so that it gets the answer rather
/// than a reset.
async fn refuse(mut stream: TcpStream, cap: usize) {
    let problem = plain_problem(
        503,
        format!("the server is at its limit of {cap} connections, all of them in service; retry shortly"),
    );
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&body).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

/// Removes the connection from the registry when its task ends (or is aborted).
struct Registered(Arc<Registry>, Arc<Conn>);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.remove(&self.1);
    }
}

/// One request in service; dropped when its answer's body is done or dropped.
struct InService(Arc<Registry>, Arc<Conn>);

impl InService {
    fn enter(registry: &Arc<Registry>, conn: &Arc<Conn>) -> InService {
        conn.busy.fetch_add(1, Ordering::AcqRel);
        conn.served.store(true, Ordering::Release);
        InService(registry.clone(), conn.clone())
    }
}

impl Drop for InService {
    fn drop(&mut self) {
        let c = &self.1;
        c.idle_since.store(self.0.now(), Ordering::Release);
        c.reading.store(false, Ordering::Release);
        c.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer's body that keeps its request counted as in service until it ends.
struct Tracked {
    body: Body,
    _service: InService,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The socket, noting when a request's bytes arrive and when writes stall.
struct Watched {
    io: TcpStream,
    registry: Arc<Registry>,
    conn: Arc<Conn>,
}

impl Watched {
    fn wrote(&self, r: &Poll<io::Result<usize>>) {
        match r {
            Poll::Pending => {
                let _ = self.conn.stalled_since.compare_exchange(
                    0,
                    self.registry.now(),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
            }
            Poll::Ready(Ok(n)) if *n > 0 => self.conn.stalled_since.store(0, Ordering::Release),
            _ => {}
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.reading.store(true, Ordering::Release);
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote(&r);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote(&r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Serves one connection until it ends, times out, is evicted or shutdown comes.
async fn connection(
    stream: TcpStream,
    conn: Arc<Conn>,
    registry: Arc<Registry>,
    router: Router,
    limits: Arc<Limits>,
    mut stop: watch::Receiver<bool>,
) {
    let _registered = Registered(registry.clone(), conn.clone());
    if *stop.borrow() {
        return;
    }
    let service = {
        let (registry, conn) = (registry.clone(), conn.clone());
        hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let service = InService::enter(&registry, &conn);
            let router = router.clone();
            async move {
                let Ok(response) = router.oneshot(req.map(Body::new)).await;
                Ok::<_, Infallible>(response.map(|body| Tracked {
                    body,
                    _service: service,
                }))
            }
        })
    };
    let io = hyper_util::rt::TokioIo::new(Watched {
        io: stream,
        registry: registry.clone(),
        conn: conn.clone(),
    });
    let http = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // A request's head is read into at most this much (hyper's default is
        // ~400 KiB): 2,000 slow clients sending headers then hold at most 128 MiB
        // before the header-read timeout, and headers this long are not needed.
        .max_buf_size(64 * 1024)
        .serve_connection(io, service);
    tokio::pin!(http);
    let mut draining = false;
    loop {
        let now = registry.now();
        let wake = conn.deadline(&limits, now);
        let sleep = tokio::time::sleep(Duration::from_millis(wake.saturating_sub(now)));
        tokio::select! {
            done = http.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, "connection ended");
                }
                break;
            }
            () = conn.evict.notified() => {
                tracing::debug!(conn = conn.id, "evicted to make room");
                break;
            }
            () = sleep => {
                let now = registry.now();
                if conn.deadline(&limits, now) <= now {
                    tracing::debug!(conn = conn.id, "closed: idle, slow or not reading");
                    break;
                }
            }
            _ = stop.changed(), if !draining => {
                draining = true;
                if conn.busy.load(Ordering::Acquire) == 0 {
                    break;
                }
                http.as_mut().graceful_shutdown();
            }
        }
    }
}
