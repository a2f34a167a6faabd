#!/bin/sh
# Regenerates the rendered examples in docs/ from the bundled demo history:
#   docs/season-8-review.md, docs/season-8-review.html, docs/graph.svg, docs/graph.mmd
# Usage (from the repository root): sh docs/regenerate.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
waymark="$root/target/release/waymark"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$waymark" demo >/dev/null
export WAYMARK_DB="sqlite://$work/waymark-demo.db"
"$waymark" review 8 --format md --out "$root/docs/season-8-review.md"
"$waymark" review 8 --format html --out "$root/docs/season-8-review.html"
"$waymark" graph --format svg --out "$root/docs/graph.svg"
"$waymark" graph --format mermaid --out "$root/docs/graph.mmd"
echo "docs/ regenerated from the demo ledger (head: $("$waymark" --json status | grep -o '"seq": [0-9]*' | head -1))"
