#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs or starts what the tests need, then
# runs every test with WAYMARK_REQUIRE_ALL=1, so a test that lacks its tool fails
# instead of skipping. Idempotent: what is already there is not installed again.
#
#   tools/test.sh [extra `cargo test` arguments]
#
# Needs: Rust (cargo), and root (or passwordless sudo) for the Debian packages it may
# install: postgresql, golang-go + golang-golang-x-mod-dev, chromium, nodejs + npm.
# Without root it prints the one command that would install what is missing, and stops.
# `.ci/run` calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."
export WAYMARK_REQUIRE_ALL=1
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
start=$(date +%s)

say() { printf '== %s\n' "$*"; }
root_cmd() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else
    echo "tools/test.sh: needs root to run: $*" >&2
    echo "run it yourself (e.g. with sudo), then run tools/test.sh again" >&2
    exit 1
  fi
}
# apt_install TEST PACKAGE [TEST PACKAGE…]: installs each Debian PACKAGE whose TEST (a
# command name, or a path starting with /) is not there yet. Tools that came another way
# (Node.js from NodeSource, say) are used as they are.
apt_install() {
  local missing=()
  while [ $# -ge 2 ]; do
    case "$1" in
      /*) [ -e "$1" ] || missing+=("$2") ;;
      *) command -v "$1" >/dev/null 2>&1 || missing+=("$2") ;;
    esac
    shift 2
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (Debian packages)"
  root_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
    root_cmd apt-get update -qq
    root_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  }
}

say "toolchain: $(cargo --version)"

say "PostgreSQL at $DATABASE_URL (each test creates and drops its own database)"
pg_up() { psql "$DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; }
if ! pg_up; then
  apt_install pg_ctlcluster postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  [ -d "/etc/postgresql/$version/main" ] || root_cmd pg_createcluster "$version" main >/dev/null
  root_cmd pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "PostgreSQL is not reachable at $DATABASE_URL (set DATABASE_URL to a server with trust auth for a superuser)" >&2; exit 1; }

say "Python: the independent SPEC verifier's libraries"
if ! python3 -c 'import rfc8785, cryptography' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
      -r tests/independent/requirements.txt
  else
    python3 -m pip install --quiet --disable-pip-version-check --user \
      -r tests/independent/requirements.txt
  fi
fi

say "Go and golang.org/x/mod (Go's reference sumdb/note and sumdb/tlog, tests/go)"
apt_install go golang-go /usr/share/gocode/src/golang.org/x/mod/sumdb/tlog golang-golang-x-mod-dev
go version

say "headless Chromium, Node.js and playwright-core (tests/browser.rs)"
apt_install chromium chromium node nodejs npm npm
chromium --version
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

say "PostgreSQL's server binaries (tests/db_outage.rs runs a private server)"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install /nonexistent postgresql

say "the bundled frameworks and the demo history replay under the rules, cite their sources and keep the pinned dates (tools/check_history.py and its tests)"
python3 tools/check_history.py
python3 -m unittest discover -s tools

say "the independent verifier's own tests (vectors, every single-byte change)"
python3 -m unittest discover -s tests/independent

say "the pure core links no I/O stack (cargo tree -p waymark-core)"
stacks=$(cargo tree -p waymark-core -e normal,build --prefix none --format '{p}' \
  | awk '{print $1}' | sort -u | grep -E '^(tokio|sqlx|sqlx-.*|axum|hyper|ureq|postgres-es|sqlite-es|cqrs-es)$' || true)
if [ -n "$stacks" ]; then
  echo "waymark-core depends on: $stacks (it must stay pure: see core/Cargo.toml)" >&2
  exit 1
fi

say "cargo test --workspace (WAYMARK_REQUIRE_ALL=1: nothing skips)"
cargo test --workspace --no-fail-fast "$@"

say "done in $(( $(date +%s) - start )) s"
