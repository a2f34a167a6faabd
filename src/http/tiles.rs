//! The C2SP tlog-tiles read API of each ledger, below the prefix `/api/ledgers/{id}`:
//! `checkpoint` (in `api.rs`, with `Cache-Control: no-store`), `tile/<L>/<N>[.p/<W>]`
//! and `tile/entries/<N>[.p/<W>]`, byte for byte the files `publish` writes. A tile
//! is answered when every hash (or entry) in it is complete at the head, so the partial
//! tiles of every earlier checkpoint stay available; 404 otherwise, and for a path that
//! is not a tile path. Every tile's bytes are fixed by its path (a partial tile is named
//! by its width), so all are served as immutable. Entry bundles are gzipped for
//! clients that accept it (C2SP: they SHOULD be compressed at the HTTP layer).

use super::*;
use crate::wire::Problem;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::io::Write;
use waymark_events::{Tile, TileKind};

/// The `Cache-Control` of a tile or entry bundle: its bytes never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The `Cache-Control` of a checkpoint: it moves with the ledger (C2SP: no caching
/// beyond a few seconds).
pub(super) const NO_STORE: &str = "no-store";

const OCTETS: &str = "application/octet-stream";

#[utoipa::path(get, path = "/api/ledgers/{id}/tile/{path}",
    params(("id" = String, Path, description = "ledger id"),
        ("path" = String, Path, description = "`<L>/<N>[.p/<W>]` (a hash tile of level L) or `entries/<N>[.p/<W>]` (an entry bundle), C2SP tlog-tiles: N in zero-padded groups of three digits, all but the last prefixed with `x` (1234067 is `x001/x234/067`); `.p/<W>` a partial tile of width W (1–255)")),
    responses((status = 200, description = "C2SP tlog-tiles (https://c2sp.org/tlog-tiles), immutable: a hash tile is 32 × W bytes (level 0 the events' hashes in seq order, level L ≥ 1 the Merkle roots of the full tiles of level L − 1); an entry bundle holds W events' leaf bytes, JCS(event), each after its length as a big-endian uint16 (gzip-encoded for a client that accepts it)", content_type = "application/octet-stream"),
        (status = 404, body = Problem, description = "not a tile path, or a tile the ledger's tree does not have (yet)"), (status = 503, body = Problem)))]
pub(super) async fn tile(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    P((_, path)): P<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tile = Tile::parse(&format!("tile/{path}"))
        .map_err(|e| ApiError::NotFound(format!("{e} (see https://c2sp.org/tlog-tiles)")))?;
    let Some(bytes) = app.waymark.tile(&id, &tile).await? else {
        return Err(ApiError::NotFound(format!(
            "{tile}: the tree of ledger {id} does not hold it (yet)"
        )));
    };
    let gzip = tile.kind() == TileKind::Entries && accepts_gzip(&headers);
    let bytes = if gzip { gzipped(&bytes) } else { bytes };
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(OCTETS));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    if tile.kind() == TileKind::Entries {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(r)
}

/// Whether `Accept-Encoding` lists gzip with a non-zero weight.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            coding.eq_ignore_ascii_case("gzip") && !zero
        })
}

fn gzipped(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_used_when_accepted() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
            accepts_gzip(&h)
        };
        assert!(with("gzip"));
        assert!(with("identity, GZIP;q=0.5"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
        let data = b"entry bundle ".repeat(100);
        let mut out = Vec::new();
        use std::io::Read;
        flate2::read::GzDecoder::new(gzipped(&data).as_slice())
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }
}
