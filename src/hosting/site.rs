//! `waymark site --out DIR`: the dashboard and the API's artifacts as static files,
//! for any static web host.
//!
//! ```text
//! DIR/index.html                          the dashboard at the head
//! DIR/as-of-season-N.html                 the dashboard at the end of each Season
//! DIR/decisions.html                      "Who decides" at the head, and
//!     decisions-as-of-season-N.html       at the end of each Season
//! DIR/api/ledgers/ID/                     what `publish` writes (export.jsonl,
//!                                         checkpoint.txt, snapshot.json, log-key.txt,
//!                                         VERIFY.txt, checkpoints/, snapshots/ …), and
//!                                         with it the C2SP tlog-tiles of the ledger:
//!                    checkpoint, tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>]
//! DIR/api/ledgers/ID/status.json          the status at the head, and
//!                    status-as-of-season-N.json at each Season's end
//! DIR/api/ledgers/ID/history.json         the audit trail
//! DIR/api/ledgers/ID/decisions.json       the decision map and the bodies at the head,
//!                    bodies.json          and decisions-as-of-season-N.json,
//!                                         bodies-as-of-season-N.json at each Season's end
//! DIR/api/ledgers/ID/decisions-graph.{svg,dot,mmd}   the decision diagram, and
//!                    decisions-graph-as-of-season-N.{svg,dot,mmd}
//! DIR/api/ledgers/ID/graph.{svg,dot,mmd}  the dependency graph
//! DIR/api/ledgers/ID/reviews/N.{html,md,json}
//! DIR/api/ledgers/ID/proof/inclusion/SEQ.json   the inclusion proofs of the newest
//!                                         1,000 events, which the pages link to
//! ```
//!
//! `api/ledgers/ID` is a C2SP tlog-tiles prefix, laid out as `serve`'s
//! `/api/ledgers/ID`: any proof of any event comes from a few tiles there (`waymark
//! prove inclusion SEQ --tiles URL`), so a ledger of a million events needs no million
//! proof files. The pages link the hashes of the newest 1,000 events to their proof
//! files; an older one's hash says, in its tooltip, how to compute its proof.
//!
//! Every link in the pages is relative, so DIR can be served from any path. The
//! export, checkpoint and snapshot go through `publish`, which verifies the stored
//! chain first and refuses a log that does not extend what DIR already publishes.

use crate::error::{Error, Result};
use crate::files::safe::{io_err, SafeDir};
use crate::files::KeyStore;
use crate::http::{decisions_graph_bytes, graph_bytes, ApiError, GraphFormat, HistoryQuery};
use crate::http::{gather, gather_decisions, render, render_decisions, slug, Links};
use crate::service::Waymark;
use crate::wire::{BodiesOut, DecisionsOut};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use waymark_projections::ReviewFormat;

/// What `site` wrote.
#[derive(Debug, Serialize)]
pub struct Site {
    pub dir: PathBuf,
    pub ledger: String,
    pub tree_size: u64,
    pub pages: Vec<String>,
    pub files: usize,
    /// Stale files of an earlier `site` into DIR that were removed.
    pub removed: usize,
    /// Partial tiles `publish` removed (their full tile now exists), below the API dir.
    #[serde(skip)]
    removed_tiles: BTreeSet<String>,
}

/// How many of the newest events keep an inclusion proof file.
pub const PROOFS_KEPT: u64 = 1000;

/// The list of what the last `site` wrote into DIR, so that a later `site` removes
/// its stale pages and nothing else.
const MANIFEST: &str = ".waymark-site.json";

#[derive(Serialize, serde::Deserialize)]
struct Manifest {
    waymark_site: u32,
    files: BTreeSet<String>,
}

/// A manifest entry is a relative path of plain names: a tampered manifest must not
/// name anything outside DIR.
fn plain_path(p: &str) -> bool {
    !p.is_empty()
        && p.split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\0'))
}

/// What an earlier `site` wrote into `dir` (empty if `dir` is absent or empty). A
/// non-empty `dir` without a manifest is refused: nothing in it can be told apart from
/// the user's own files.
fn previous_manifest(dir: &Path) -> Result<BTreeSet<String>> {
    let Some(root) = SafeDir::open(dir)? else {
        return Ok(BTreeSet::new());
    };
    // ~50 bytes a file: 256 MiB lists millions of inclusion proofs.
    let Some(file) = root.read(MANIFEST, 256 << 20)? else {
        let names = root.names()?;
        if names.is_empty() {
            return Ok(BTreeSet::new());
        }
        return Err(Error::BadInput(format!(
            "site --out {}: the directory is not empty and holds no {MANIFEST} from an earlier `waymark site`; \
             refusing to mix the site with files Waymark did not write (use an empty or new directory)",
            dir.display()
        )));
    };
    let manifest: Manifest = serde_json::from_slice(&file.bytes)
        .ok()
        .filter(|m: &Manifest| m.waymark_site == 1 && m.files.iter().all(|f| plain_path(f)))
        .ok_or_else(|| {
            Error::BadInput(format!(
                "{} is not a Waymark site manifest; refusing to write into {}",
                root.join(MANIFEST).display(),
                dir.display()
            ))
        })?;
    Ok(manifest.files)
}

fn save_manifest(root: &SafeDir, files: BTreeSet<String>) -> Result<()> {
    let m = Manifest {
        waymark_site: 1,
        files,
    };
    let mut bytes = serde_json::to_vec(&m).unwrap_or_default();
    bytes.push(b'\n');
    root.write(MANIFEST, &bytes, 0o666)
}

/// Removes files an earlier `site` wrote that this one did not, and the directories
/// that leaves empty. A path that leads through a symlink or a non-directory is left
/// alone (never followed).
fn remove_stale(root: &SafeDir, stale: &BTreeSet<String>) -> Result<()> {
    let mut dirs = BTreeSet::new();
    for path in stale {
        let (sub, file) = path.rsplit_once('/').unwrap_or(("", path));
        if let Ok(Some(d)) = root.subdir(sub, false) {
            d.remove(file)?;
        }
        let mut parent = sub;
        while !parent.is_empty() {
            dirs.insert(parent.to_string());
            parent = parent.rsplit_once('/').map_or("", |(p, _)| p);
        }
    }
    // Deepest first, so that a directory emptied by its children's removal goes too.
    let mut dirs: Vec<_> = dirs.into_iter().collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
    for d in dirs {
        let (sub, name) = d.rsplit_once('/').unwrap_or(("", &d));
        if let Ok(Some(parent)) = root.subdir(sub, false) {
            parent.remove_empty_dir(name);
        }
    }
    Ok(())
}

/// Writes `bytes` to `name` (`a/b.html`) below `root`, never through a symlink.
fn write(root: &SafeDir, name: &str, bytes: &[u8], written: &mut BTreeSet<String>) -> Result<()> {
    let (sub, file) = name.rsplit_once('/').unwrap_or(("", name));
    let dir = root
        .subdir(sub, true)?
        .ok_or_else(|| io_err(&root.join(sub), "no such directory"))?;
    dir.write_unsynced(file, bytes, 0o666)?;
    written.insert(name.to_string());
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

/// Writes the site of ledger `id` into `dir`: refuses a non-empty `dir` that no
/// earlier `site` wrote (no manifest); otherwise writes every file, then removes what
/// the earlier `site` wrote and this one did not (its files only: anything else in
/// `dir` stays), and records what it wrote in `dir/.waymark-site.json`.
pub async fn build(waymark: &Waymark, keys: &KeyStore, id: &str, dir: &Path) -> Result<Site> {
    let log_key = keys.load(&keys.log_path(id))?;
    let old = previous_manifest(dir)?;
    let mut written = BTreeSet::new();
    let built = write_site(waymark, keys, id, dir, &log_key, &mut written).await;
    let root = SafeDir::open(dir)?;
    let (mut site, root) = match (built, root) {
        (Ok(site), Some(root)) => (site, root),
        (Ok(_), None) => {
            return Err(io_err(
                dir,
                "the directory disappeared while it was written",
            ))
        }
        (Err(e), root) => {
            // What was written so far is listed too, for the next run to clean up.
            if let (Some(root), false) = (root, written.is_empty()) {
                let _ = save_manifest(&root, old.union(&written).cloned().collect());
            }
            return Err(e);
        }
    };
    // `publish` keeps every checkpoint, snapshot and consistency proof it ever wrote
    // for this ledger, and the tiles it wrote before (full tiles are never rewritten):
    // those stay listed, not stale, but for the partial tiles it removed.
    let api = format!("api/ledgers/{id}/");
    let history = ["checkpoints/", "snapshots/", "consistency/", "tile/"];
    let kept: BTreeSet<String> = old
        .iter()
        .filter(|f| {
            f.strip_prefix(&api).is_some_and(|rest| {
                history.iter().any(|h| rest.starts_with(h)) && !site.removed_tiles.contains(rest)
            })
        })
        .cloned()
        .collect();
    let stale: BTreeSet<String> = old
        .difference(&written)
        .filter(|f| !kept.contains(*f))
        .cloned()
        .collect();
    remove_stale(&root, &stale)?;
    written.extend(kept);
    site.removed = stale.len();
    save_manifest(&root, written)?;
    Ok(site)
}

async fn write_site(
    waymark: &Waymark,
    keys: &KeyStore,
    id: &str,
    dir: &Path,
    log_key: &ed25519_dalek::SigningKey,
    written: &mut BTreeSet<String>,
) -> Result<Site> {
    let api = format!("api/ledgers/{id}");
    let api_dir = dir.join(&api);
    let open = |create: bool| -> Result<Option<SafeDir>> {
        let root = if create {
            Some(SafeDir::create(dir, 0o755)?)
        } else {
            SafeDir::open(dir)?
        };
        match root {
            Some(root) => root.subdir(&api, create),
            None => Ok(None),
        }
    };
    let published = crate::hosting::publish_in(waymark, id, &api_dir, &open, log_key, &[]).await?;
    written.extend(published.files.iter().map(|f| format!("{api}/{f}")));
    let links = Links::Static {
        proofs_from: published.tree_size.saturating_sub(PROOFS_KEPT) + 1,
    };
    let root = SafeDir::open(dir)?.ok_or_else(|| io_err(dir, "no such directory"))?;
    let root = &root;
    let count = written;
    let n = published.tree_size;

    let status = waymark.status(id, None).await?;
    write(root, &format!("{api}/status.json"), &json(&status), count)?;
    write_history(waymark, root, id, n, count).await?;
    for (format, ext) in [
        (GraphFormat::Svg, "svg"),
        (GraphFormat::Dot, "dot"),
        (GraphFormat::Mermaid, "mmd"),
    ] {
        let body = graph_bytes(&status, format).1;
        write(root, &format!("{api}/graph.{ext}"), &body, count)?;
    }
    let proofs_at = format!("{api}/proof/inclusion");
    let proofs = root
        .subdir(&proofs_at, true)?
        .ok_or_else(|| io_err(&root.join(&proofs_at), "no such directory"))?;
    // The proofs the pages link to (`Links::inclusion`); any other comes from the tiles.
    for seq in (1..=n).filter(|s| links.inclusion(id, *s).is_some()) {
        let proof = waymark.prove_inclusion(id, seq, Some(n)).await?;
        proofs.write_unsynced(&format!("{seq}.json"), &proof.to_bytes(), 0o666)?;
        count.insert(format!("{proofs_at}/{seq}.json"));
    }

    let head = gather(waymark, keys, id, None, HistoryQuery::default(), false)
        .await
        .map_err(api_err)?;
    let ledgers = vec![id.to_string()];
    let mut pages = vec!["index.html".to_string()];
    write(
        root,
        "index.html",
        render(&head, &links, &ledgers).as_bytes(),
        count,
    )?;
    pages.push(decisions(waymark, root, id, None, &ledgers, &links, count).await?);
    for season in &head.all_seasons {
        write_reviews(waymark, root, id, *season, count).await?;
        let point = format!("season:{season}");
        let page = gather(
            waymark,
            keys,
            id,
            Some(&point),
            HistoryQuery::default(),
            false,
        )
        .await
        .map_err(api_err)?;
        write(
            root,
            &format!("{api}/status-{}.json", slug(&point)),
            &json(&page.status),
            count,
        )?;
        let name = format!("{}.html", slug(&point));
        write(
            root,
            &name,
            render(&page, &links, &ledgers).as_bytes(),
            count,
        )?;
        pages.push(name);
        pages.push(decisions(waymark, root, id, Some(&point), &ledgers, &links, count).await?);
    }
    Ok(Site {
        dir: dir.to_path_buf(),
        ledger: id.to_string(),
        tree_size: n,
        pages,
        files: count.len(),
        removed: 0,
        removed_tiles: published.removed.into_iter().collect(),
    })
}

/// Audit rows read per round trip while writing `history.json`.
const HISTORY_PAGE: u64 = 5_000;

/// Writes `api/ledgers/ID/history.json`, the audit trail of seq `1..=n` as one JSON
/// array (the bytes `serde_json::to_vec_pretty` gives for the whole trail), a page of
/// rows at a time: at 1M events the trail was 767 MB of JSON built in memory beside
/// the rows it came from (2.9 GB peak for `site`).
async fn write_history(
    waymark: &Waymark,
    root: &SafeDir,
    id: &str,
    n: u64,
    count: &mut BTreeSet<String>,
) -> Result<()> {
    let api = format!("api/ledgers/{id}");
    let dir = root
        .subdir(&api, true)?
        .ok_or_else(|| io_err(&root.join(&api), "no such directory"))?;
    let mut file = dir.create_file("history.json", 0o666)?;
    let mut first = true;
    let mut lo = 1;
    while lo <= n {
        let hi = n.min(lo + HISTORY_PAGE - 1);
        let mut out = Vec::new();
        for row in waymark.history_range(id, lo, hi).await? {
            out.extend_from_slice(if first { b"[\n  " } else { b",\n  " });
            first = false;
            // An element of the pretty array is the row pretty-printed one level in: a
            // JSON text has no raw newline but between its tokens.
            for b in serde_json::to_vec_pretty(&row).unwrap_or_default() {
                out.push(b);
                if b == b'\n' {
                    out.extend_from_slice(b"  ");
                }
            }
        }
        file.write_all(&out)?;
        lo = hi + 1;
    }
    file.write_all(if first { b"[]\n" } else { b"\n]\n" })?;
    file.commit()?;
    count.insert(format!("{api}/history.json"));
    Ok(())
}

/// Writes `api/ledgers/ID/reviews/N.{html,md,json}`, the review of Season `season` in
/// its three formats, as [`Waymark::write_review`] streams them: two passes over the
/// Season for the three files together, a page of events or rows in memory at a time.
async fn write_reviews(
    waymark: &Waymark,
    root: &SafeDir,
    id: &str,
    season: i64,
    count: &mut BTreeSet<String>,
) -> Result<()> {
    let at = format!("api/ledgers/{id}/reviews");
    let dir = root
        .subdir(&at, true)?
        .ok_or_else(|| io_err(&root.join(&at), "no such directory"))?;
    let name = |ext: &str| format!("{season}.{ext}");
    let mut html = dir.create_file(&name("html"), 0o666)?;
    let mut md = dir.create_file(&name("md"), 0o666)?;
    let mut json = dir.create_file(&name("json"), 0o666)?;
    waymark
        .write_review(
            id,
            season,
            &mut [
                (ReviewFormat::Html, &mut |b: &[u8]| html.write_all(b)),
                (ReviewFormat::Markdown, &mut |b: &[u8]| md.write_all(b)),
                (ReviewFormat::Json, &mut |b: &[u8]| json.write_all(b)),
            ],
        )
        .await?;
    for (file, ext) in [(html, "html"), (md, "md"), (json, "json")] {
        file.commit()?;
        count.insert(format!("{at}/{}", name(ext)));
    }
    Ok(())
}

/// Writes the "Who decides" page of `id` at `point` (`None`: the head) with its decision
/// map and bodies as JSON; returns the page's name.
async fn decisions(
    waymark: &Waymark,
    root: &SafeDir,
    id: &str,
    point: Option<&str>,
    ledgers: &[String],
    links: &Links,
    count: &mut BTreeSet<String>,
) -> Result<String> {
    let page = gather_decisions(waymark, id, point)
        .await
        .map_err(api_err)?;
    let suffix = point.map_or(String::new(), |p| format!("-{}", slug(p)));
    let api = format!("api/ledgers/{id}");
    let status = page.status.clone();
    write(
        root,
        &format!("{api}/decisions{suffix}.json"),
        &json(&DecisionsOut::of(status.clone())),
        count,
    )?;
    write(
        root,
        &format!("{api}/bodies{suffix}.json"),
        &json(&BodiesOut::of(status)),
        count,
    )?;
    for (format, ext) in [
        (GraphFormat::Svg, "svg"),
        (GraphFormat::Dot, "dot"),
        (GraphFormat::Mermaid, "mmd"),
    ] {
        let body = decisions_graph_bytes(&page.status, format).1;
        write(
            root,
            &format!("{api}/decisions-graph{suffix}.{ext}"),
            &body,
            count,
        )?;
    }
    let name = links.decisions(id, point);
    write(
        root,
        &name,
        render_decisions(&page, links, ledgers).as_bytes(),
        count,
    )?;
    Ok(name)
}
