//! The latest signed checkpoint, the log key, and how to verify both offline: the
//! commands to download the artifacts and check them with or without Waymark.

use super::gather::LatestCheckpoint;
use super::{Links, Page};
use maud::{html, Markup, PreEscaped};
use waymark_projections::html::Text;

/// A literal double quote in text (maud would write a literal `"` as `&quot;`).
const QUOTE: PreEscaped<&str> = PreEscaped("\"");

pub(super) fn verify(p: &Page, links: &Links) -> Markup {
    let (events, snapshot, checkpoint) = (
        links.events(&p.id),
        links.snapshot(&p.id),
        links.checkpoint(&p.id),
    );
    let tiles = links.tiles(&p.id);
    html! {
        section id="verify" aria-labelledby="verify-h" {
            "\n"
            h2 id="verify-h" { "Latest signed checkpoint, and how to verify it offline" } "\n"
            @match &p.checkpoint {
                LatestCheckpoint::Signed(note) => {
                    p {
                        "The ledger's log key signs this C2SP checkpoint (origin, tree size, \
                         Merkle root) of all " (p.head_seq) " events ("
                        a href=(Text(&checkpoint)) { "download" } "):"
                    } "\n"
                    pre id="checkpoint" { (Text(note)) } "\n"
                }
                LatestCheckpoint::Unavailable(why) => { p { "No checkpoint: " (Text(why)) } "\n" }
            }
            p { "The log key, as " code { "LedgerOpened" } " (seq 1) records it:" } "\n"
            pre id="log-key" { (Text(&p.log_key)) } "\n"
            ol {
                "\n"
                li {
                    strong { "Pin the log key" } " from a source other than this page (a \
                    governance post, an earlier download) and compare it with the one above."
                } "\n"
                li {
                    strong { "Download" } " the " a href=(Text(&events)) { "export" }
                    " (every event, SPEC section 7), the " a href=(Text(&snapshot)) { "snapshot bundle" }
                    " (the checkpoint plus the status it implies) and, if you like, the "
                    a href=(Text(&checkpoint)) { "checkpoint" } " alone:\n"
                    pre {
                        "curl -o export.jsonl '" (Text(&links.absolute(&events))) "'\n"
                        "curl -o snapshot.json '" (Text(&links.absolute(&snapshot))) "'\n"
                        "curl -o checkpoint.txt '" (Text(&links.absolute(&checkpoint))) "'"
                    }
                } "\n"
                li {
                    strong { "Verify with Waymark, without its database" } ": the signature of \
                    the checkpoint, every hash, link, signature and rule of the log, the root, \
                    and the status:\n"
                    pre {
                        "waymark verify-offline --log export.jsonl --snapshot snapshot.json \\\n  \
                         --key '" (Text(&p.log_key)) "'"
                    }
                    "It prints " code { "verify: OK" } " and exits 0, or names the first bad seq \
                     and exits 3."
                } "\n"
                li {
                    strong { "Check one event" } ": each hash in the audit log links to its \
                    inclusion proof. Save one as " code { "proof.json" } " and add "
                    code { "--inclusion proof.json" } " to the command above. Or compute the \
                    proof of any event from the ledger's C2SP tlog-tiles (a few small files \
                    below " code { (Text(&tiles)) } "), checked against the signed checkpoint:\n"
                    pre {
                        "waymark prove inclusion SEQ --tiles '" (Text(&tiles)) "' \\\n  \
                         --key '" (Text(&p.log_key)) "'"
                    }
                    code { "waymark verify-offline --tiles '" (Text(&tiles)) "' --key …" }
                    " verifies the whole log from the tiles' entry bundles, and every tile."
                } "\n"
                li {
                    strong { "Without Waymark" } ": open " code { "checkpoint.txt" }
                    " with any C2SP signed-note implementation (Go's "
                    code { "golang.org/x/mod/sumdb/note" } ") and the pinned key, recompute the \
                    RFC 9162 root over the export's leaf hashes (each line's " code { "hash" }
                    " is SHA-256 of 0x00 and the line's event without " code { "hash" }
                    ", in RFC 8785 form), and compare it with the checkpoint's; the project's \
                    README, " (QUOTE) "Verify without Waymark" (QUOTE) ", gives the code."
                } "\n"
                li {
                    strong { "Later" } ": keep this checkpoint. A newer one must extend it: "
                    code {
                        "waymark verify-offline --log export.jsonl --snapshot snapshot.json \
                         --prev-snapshot old-snapshot.json"
                    }
                    " proves the new log kept every event the old one had."
                } "\n"
            } "\n"
        } "\n"
    }
}
