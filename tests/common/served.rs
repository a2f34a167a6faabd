//! A `waymark serve` on 127.0.0.1, port 0, over an env's store, in its own runtime
//! thread (the server and hostile-client tests share it). Dropping it shuts it down
//! gracefully and waits for it.

use super::Env;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use waymark::server::{App, Backend, Limits};

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
            let app = App::with_limits(Backend::new(db).unwrap(), keys, limits);
            let stop = async move {
                let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
            };
            waymark::server::run(listener, app, stop).await.unwrap();
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
