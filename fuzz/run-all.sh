#!/usr/bin/env bash
# Runs every Waymark fuzz target, one after another, for MINUTES each (default 10),
# then prints a table: target, minutes, executions, final cov/ft, crashes.
#
#   fuzz/run-all.sh [MINUTES] [TARGET...]
#
# Environment:
#   FUZZ_TARGET_DIR        cargo target dir for the instrumented builds (default fuzz/target)
#   FUZZ_SANITIZER         address (default) or none (if ASan does not link)
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain; without one,
# RUSTC_BOOTSTRAP=1 lets the stable toolchain take cargo-fuzz's -Z flags.
set -uo pipefail
cd "$(dirname "$0")"

minutes="${1:-10}"
shift || true
all=(statement apply_line export_line checkpoint_note proofs snapshot_bundle framework_toml decisions tiles_cosignatures strict_verifier)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi
seconds=$((minutes * 60))
target_dir="${FUZZ_TARGET_DIR:-$PWD/target}"
sanitizer="${FUZZ_SANITIZER:-address}"

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  cargo=(cargo +nightly)
else
  export RUSTC_BOOTSTRAP=1
  cargo=(cargo)
fi

features_for() {
  case "$1" in
    apply_line | framework_toml) echo "--features app" ;;
    *) echo "" ;;
  esac
}

# The app targets link the bundled SQLite (through sqlx) whose C globals trip ASan's
# one-definition-rule check at start-up: a false alarm for these targets.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0"

mkdir -p logs
summary=()
for t in "${targets[@]}"; do
  log="logs/$t.log"
  echo "== $t: ${minutes} min, log in fuzz/$log"
  before=$(ls "artifacts/$t" 2>/dev/null | grep -c '^crash-\|^timeout-\|^oom-\|^leak-' || true)
  # shellcheck disable=SC2046
  "${cargo[@]}" fuzz run --target-dir "$target_dir" --sanitizer "$sanitizer" $(features_for "$t") "$t" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  after=$(ls "artifacts/$t" 2>/dev/null | grep -c '^crash-\|^timeout-\|^oom-\|^leak-' || true)
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*')
  summary+=("$(printf '%-16s %4s %12s %7s %7s %7s %4s' "$t" "$minutes" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$((after - before))" "$rc")")
  if [ "$rc" -ne 0 ]; then
    echo "   exit $rc: see fuzz/$log and fuzz/artifacts/$t/"
    grep -m1 -A2 'panicked at' "$log" || true
  fi
done

echo
printf '%-16s %4s %12s %7s %7s %7s %4s\n' target min executions cov ft crashes rc
printf '%s\n' "${summary[@]}"
