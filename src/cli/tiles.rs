//! `prove inclusion … --tiles SRC`, `prove consistency … --tiles SRC`: the proof
//! computed from a tiled log (a directory `publish` wrote, or a URL prefix) instead of
//! the database, from only the few tiles it needs, and verified against the log's
//! signed checkpoint before it is printed. The same document `prove` prints from the
//! database.

use super::{write_out, Cli, ProveCmd};
use crate::error::Result;
use waymark_core::{trusted_key, TiledLog};

pub(super) fn prove(cli: &Cli, p: &ProveCmd, src: &str) -> Result<i32> {
    let source = crate::hosting::open_tile_source(src)?;
    let key = p.tiles_from().key.as_deref().map(trusted_key).transpose()?;
    let (mut log, warnings) = TiledLog::open(&*source, key.as_ref(), cli.ledger.as_deref())?;
    for w in warnings {
        eprintln!("waymark: warning: {w}");
    }
    let bytes = match p {
        ProveCmd::Inclusion { seq, size, .. } => log.prove_inclusion(*seq, *size)?.to_bytes(),
        ProveCmd::Consistency { old, new, .. } => log.prove_consistency(*old, *new)?.to_bytes(),
    };
    write_out(None, &bytes)?;
    Ok(0)
}
