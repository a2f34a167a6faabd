//! Static hosting: `publish DIR` (the verifiable artifacts: export, checkpoint,
//! snapshot, proofs, and the tree as C2SP tlog-tiles) and `site --out DIR` (those plus
//! the dashboard's pages), written as files any web server can serve; and reading
//! tiles back from a URL (`url.rs`), for `verify-offline --tiles` and `prove --tiles`.

mod publish;
mod site;
mod tiles;
mod url;
mod witnessing;

pub use publish::{publish, publish_in};
pub use site::build as build_site;
pub use url::{open_tile_source, UrlSource};
pub use witnessing::targets as witness_targets;
