//! `waymark site --out DIR`: the dashboard and the API's artifacts as static files,
//! for any static web host.
//!
//! ```text
//! DIR/index.html                          the dashboard at the head
//! DIR/as-of-season-N.html                 the dashboard at the end of each Season
//! DIR/api/ledgers/ID/                     what `publish` writes (export.jsonl,
//!                                         checkpoint.txt, snapshot.json, log-key.txt,
//!                                         VERIFY.txt, checkpoints/, snapshots/ …)
//! DIR/api/ledgers/ID/status.json          the status at the head, and
//!                    status-as-of-season-N.json at each Season's end
//! DIR/api/ledgers/ID/history.json         the audit trail
//! DIR/api/ledgers/ID/graph.{svg,dot,mmd}  the dependency graph
//! DIR/api/ledgers/ID/reviews/N.{html,md,json}
//! DIR/api/ledgers/ID/proof/inclusion/SEQ.json   one inclusion proof per event
//! ```
//!
//! Every link in the pages is relative, so DIR can be served from any path. The
//! export, checkpoint and snapshot go through `publish`, which verifies the stored
//! chain first and refuses a log that does not extend what DIR already publishes.

use crate::dashboard::{gather, render, slug, Links};
use crate::error::{Error, Result, StorageError};
use crate::keys::KeyStore;
use crate::server::{
    graph_bytes, review_bytes, with_waymark, ApiError, Backend, GraphFormat, HistoryQuery,
    ReviewFormat,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What `site` wrote.
#[derive(Debug, Serialize)]
pub struct Site {
    pub dir: PathBuf,
    pub ledger: String,
    pub tree_size: u64,
    pub pages: Vec<String>,
    pub files: usize,
}

fn write(dir: &Path, name: &str, bytes: &[u8], count: &mut usize) -> Result<()> {
    let path = dir.join(name);
    let io =
        |p: &Path, e: std::io::Error| Error::Storage(StorageError(format!("{}: {e}", p.display())));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
    *count += 1;
    Ok(())
}

fn api_err(e: ApiError) -> Error {
    match e {
        ApiError::App(e) => e,
        other => Error::Usage(other.problem().detail),
    }
}

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).unwrap_or_default();
    b.push(b'\n');
    b
}

/// Writes the site of ledger `id` into `dir`.
pub async fn build(backend: &Backend, keys: &KeyStore, id: &str, dir: &Path) -> Result<Site> {
    let log_key = keys.load(&keys.log_path(id))?;
    let api = format!("api/ledgers/{id}");
    let api_dir = dir.join(&api);
    let published =
        with_waymark!(backend, w => crate::publish::publish(w, id, &api_dir, &log_key).await)?;
    let mut count = published.files.len();
    let n = published.tree_size;

    let status = with_waymark!(backend, w => w.status(id, None).await)?;
    write(
        dir,
        &format!("{api}/status.json"),
        &json(&status),
        &mut count,
    )?;
    let history = with_waymark!(backend, w => w.history(id, &Default::default()).await)?;
    write(
        dir,
        &format!("{api}/history.json"),
        &json(&history),
        &mut count,
    )?;
    for (format, ext) in [
        (GraphFormat::Svg, "svg"),
        (GraphFormat::Dot, "dot"),
        (GraphFormat::Mermaid, "mmd"),
    ] {
        let body = graph_bytes(&status, format).1;
        write(dir, &format!("{api}/graph.{ext}"), &body, &mut count)?;
    }
    for seq in 1..=n {
        let proof = with_waymark!(backend, w => w.prove_inclusion(id, seq, Some(n)).await)?;
        write(
            dir,
            &format!("{api}/proof/inclusion/{seq}.json"),
            &proof.to_bytes(),
            &mut count,
        )?;
    }

    let head = gather(backend, keys, id, None, HistoryQuery::default(), false)
        .await
        .map_err(api_err)?;
    let ledgers = vec![id.to_string()];
    let mut pages = vec!["index.html".to_string()];
    write(
        dir,
        "index.html",
        render(&head, &Links::Static, &ledgers).as_bytes(),
        &mut count,
    )?;
    for season in &head.all_seasons {
        for (format, ext) in [
            (ReviewFormat::Html, "html"),
            (ReviewFormat::Md, "md"),
            (ReviewFormat::Json, "json"),
        ] {
            let body = review_bytes(backend, id, *season, format)
                .await
                .map_err(api_err)?
                .1;
            write(
                dir,
                &format!("{api}/reviews/{season}.{ext}"),
                &body,
                &mut count,
            )?;
        }
        let point = format!("season:{season}");
        let page = gather(
            backend,
            keys,
            id,
            Some(&point),
            HistoryQuery::default(),
            false,
        )
        .await
        .map_err(api_err)?;
        write(
            dir,
            &format!("{api}/status-{}.json", slug(&point)),
            &json(&page.status),
            &mut count,
        )?;
        let name = format!("{}.html", slug(&point));
        write(
            dir,
            &name,
            render(&page, &Links::Static, &ledgers).as_bytes(),
            &mut count,
        )?;
        pages.push(name);
    }
    Ok(Site {
        dir: dir.to_path_buf(),
        ledger: id.to_string(),
        tree_size: n,
        pages,
        files: count,
    })
}
