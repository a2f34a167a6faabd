//! The latest signed checkpoint, the log key, and how to verify both offline: the
//! commands to download the artifacts and check them with or without Waymark.

use super::gather::LatestCheckpoint;
use super::{Links, Page};
use maud::{html, Markup, PreEscaped};
use waymark_projections::html::Text;

/// A literal double quote in text (maud would write a literal `"` as `&quot;`).
const QUOTE: PreEscaped<&str> = PreEscaped("\"");

/// Who cosigned the latest witnessed checkpoint, and when (C2SP tlog-cosignature).
fn witnesses(p: &Page) -> Markup {
    use waymark_events::CosignatureCheck;
    html! {
        h3 id="witnesses-h" { "Witnesses" } "\n"
        @match &p.witnessed {
            None => {
                p id="witnesses" {
                    "No witness has cosigned a checkpoint of this ledger yet. Witnesses are \
                     independent parties that cosign a checkpoint only if it extends the last one \
                     they saw (" code { "waymark publish DIR --witness URL" } "): with them, a log \
                     cannot show two readers two different histories."
                } "\n"
            }
            Some(w) => {
                p {
                    "The checkpoint of the first " (w.tree_size) " events, published at "
                    (Text(&w.published_at)) ", carries these cosignatures:"
                } "\n"
                ul id="witnesses" {
                    "\n"
                    @for v in &w.verdicts {
                        li {
                            strong { (Text(&v.name)) } ": "
                            @match &v.check {
                                CosignatureCheck::Valid { timestamp } => {
                                    "cosigned at " (waymark_core::posix_time(*timestamp))
                                }
                                CosignatureCheck::Missing => { "no cosignature" }
                                CosignatureCheck::Bad(why) => { "cosignature does not verify (" (why) ")" }
                            }
                            br; code { (Text(&v.vkey)) }
                        } "\n"
                    }
                } "\n"
                pre id="witnessed-checkpoint" { (Text(&w.note)) } "\n"
                p {
                    "Check them offline: add " code { "--witness VKEY" } " for each key above (pinned \
                     from elsewhere) and " code { "--quorum K" } " to " code { "verify-offline" } "."
                } "\n"
            }
        }
    }
}

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
            (witnesses(p))
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
