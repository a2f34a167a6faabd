#!/bin/sh
# Regenerates the rendered examples in docs/ from the bundled demo history:
#   docs/season-8-review.md, docs/season-8-review.html, docs/graph.svg, docs/graph.mmd,
#   docs/decisions.svg, docs/decisions.mmd (the decision diagram, SPEC section 13),
#   and docs/dashboard.png (through tests/browser.rs, which needs what tools/test.sh installs).
# Usage (from anywhere): sh docs/regenerate.sh        (honours CARGO_TARGET_DIR)
# Nothing else writes these files: the test suite leaves docs/ untouched.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
waymark="$target/release/waymark"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$waymark" demo >/dev/null
export WAYMARK_DB="sqlite://$work/waymark-demo.db"
"$waymark" review 8 --format md --out "$root/docs/season-8-review.md"
"$waymark" review 8 --format html --out "$root/docs/season-8-review.html"
"$waymark" graph --format svg --out "$root/docs/graph.svg"
"$waymark" graph --format mermaid --out "$root/docs/graph.mmd"
"$waymark" graph --decisions --format svg --out "$root/docs/decisions.svg"
"$waymark" graph --decisions --format mermaid --out "$root/docs/decisions.mmd"
unset WAYMARK_DB
WAYMARK_REQUIRE_ALL=1 WAYMARK_SCREENSHOT="$root/docs/dashboard.png" \
  cargo test --quiet --manifest-path "$root/Cargo.toml" --test browser >/dev/null
echo "docs/ regenerated from the demo ledger (head: $("$waymark" --db "sqlite://$work/waymark-demo.db" --json status | grep -o '"seq": [0-9]*' | head -1))"
