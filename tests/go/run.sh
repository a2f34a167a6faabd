#!/bin/sh
# Builds and runs check.go (with tiles.go), a verifier of Waymark checkpoints, proofs, exports and
# snapshots written against Go's reference golang.org/x/mod/sumdb/{note,tlog}.
#
#   tests/go/run.sh note        NOTE VKEY
#   tests/go/run.sh inclusion   PROOF.json NOTE VKEY
#   tests/go/run.sh consistency PROOF.json OLD-NOTE NEW-NOTE VKEY
#   tests/go/run.sh export      EXPORT.jsonl NOTE VKEY
#   tests/go/run.sh snapshot    SNAPSHOT.json EXPORT.jsonl VKEY
#   tests/go/run.sh cosigned    NOTE LOG-VKEY WITNESS-VKEY...
#   tests/go/run.sh tiles       DIR VKEY [PROOF.json...]   (C2SP tlog-tiles, tiles.go)
#
# VKEY is a verifier key string or a file holding one. Exit status: 0 verified,
# 1 refused, 2 usage, 3 toolchain missing or the build failed.
#
# Go and x/mod come from Debian (golang-go, golang-golang-x-mod-dev, the latter
# under /usr/share/gocode/src); the build runs in GOPATH mode with no module
# downloads and no network.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
xmod=/usr/share/gocode/src/golang.org/x/mod/sumdb

if ! command -v go >/dev/null 2>&1 || [ ! -d "$xmod/note" ] || [ ! -d "$xmod/tlog" ]; then
    echo "run.sh: needs Go and golang.org/x/mod: apt-get install golang-go golang-golang-x-mod-dev" >&2
    echo "run.sh: (tools/test.sh installs them; tests never install anything themselves)" >&2
    exit 3
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ]; then
    export GOCACHE="$work/cache"
fi
if ! GO111MODULE=off GOPATH="/usr/share/gocode:$work" GOPROXY=off GOFLAGS= \
    go build -o "$work/check" "$here/check.go" "$here/cosignature.go" "$here/tiles.go"; then
    echo "run.sh: build failed" >&2
    exit 3
fi
"$work/check" "$@"
