//! Static hosting: `publish DIR` (the verifiable artifacts: export, checkpoint,
//! snapshot, proofs) and `site --out DIR` (those plus the dashboard's pages), written
//! as files any web server can serve.

mod publish;
mod site;

pub use publish::{publish, publish_in};
pub use site::build as build_site;
