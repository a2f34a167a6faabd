//! A `waymark serve` on 127.0.0.1, port 0, over an env's store, in its own runtime
//! thread (the server and hostile-client tests share it). Dropping it shuts it down
//! gracefully and waits for it.

use super::{text, Env};
use serde_json::Value;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use waymark::http::{App, Limits};

/// A server with `limits`.
pub struct Served {
    pub base: String,
    pub addr: std::net::SocketAddr,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn serve_with(env: &Env, limits: Limits) -> Served {
    let url = env.url.clone();
    let keys = env.keys();
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let db = waymark::Db::connect(&url).await.unwrap();
            let app = App::with_limits(
                waymark::Waymark::new(db, waymark::system_clock()),
                keys,
                limits,
            );
            let stop = async move {
                let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
            };
            waymark::http::run(listener, app, stop).await.unwrap();
        });
    });
    let addr = addr_rx.recv().unwrap();
    Served {
        base: format!("http://{addr}"),
        addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

impl Served {
    /// Asks for shutdown; whether the server was gone within `bound`.
    pub fn stop_within(&mut self, bound: Duration) -> bool {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let t = self.thread.take().unwrap();
        let start = Instant::now();
        while !t.is_finished() {
            if start.elapsed() > bound {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        t.join().unwrap();
        true
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A server with the default limits.
pub fn serve(env: &Env) -> Served {
    serve_with(env, Limits::default())
}

/// An HTTP answer as the tests look at it.
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub link: Option<String>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", text(&self.body)))
    }
    pub fn text(&self) -> String {
        text(&self.body)
    }
    /// Asserts an RFC 9457 problem with this status; returns it.
    #[track_caller]
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.content_type, "application/problem+json");
        let p = self.json();
        assert_eq!(p["status"], status);
        for k in ["type", "title", "detail"] {
            assert!(p[k].is_string(), "problem without {k}: {p}");
        }
        p
    }
}

/// One request with an optional content type and body; any status is an answer.
pub fn request(method: &str, url: &str, ctype: Option<&str>, body: Option<&[u8]>) -> Resp {
    let mut req = ureq::request(method, url).timeout(Duration::from_secs(60));
    if let Some(c) = ctype {
        req = req.set("content-type", c);
    }
    let r = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let r = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let header = |name: &str| r.header(name).map(str::to_owned);
    let (status, content_type) = (r.status(), header("content-type").unwrap_or_default());
    let (location, link) = (header("location"), header("link"));
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut body).unwrap();
    Resp {
        status,
        content_type,
        location,
        link,
        body,
    }
}

pub fn get(url: &str) -> Resp {
    request("GET", url, None, None)
}
