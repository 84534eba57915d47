#!/usr/bin/env bash
# The offline-audit benchmark (issue 4): builds (or reuses) a synthetic archive ledger of N events,
# exports it as a bundle, and times the full audit beside the bare libsodium verify loop over the
# same messages in the same run (ledger-bench audit); then measures `ledger audit`'s peak memory
# in its own process with /usr/bin/time -v.
#
#   bash Tools/bench-audit.sh --events 1000000 [--ledger PATH] [--rounds R]
set -euo pipefail
cd "$(dirname "$0")/.."
events=100000
ledger=""
rounds=2
while [ $# -gt 0 ]; do
    case "$1" in
        --events) events="$2"; shift 2 ;;
        --ledger) ledger="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        *) echo "usage: bench-audit.sh [--events N] [--ledger PATH] [--rounds R]" >&2; exit 64 ;;
    esac
done
bash Tools/setup.sh
swift build -c release --product ledger-bench >&2
swift build -c release --product ledger >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -z "$ledger" ]; then
    ledger="$work/synthetic.ledger"
    .build/release/ledger-bench archive --events "$events" --ledger "$ledger" --only-generate >&2
fi
out="$(.build/release/ledger-bench audit --ledger "$ledger" --rounds "$rounds" --keep "$work/bag" | tee /dev/stderr)"
trust="$(printf '%s\n' "$out" | sed -n 's/^trust: //p')"
/usr/bin/time -v .build/release/ledger audit "$work/bag" --trust "$trust" 2>"$work/time.txt" >/dev/null
echo "ledger audit (own process): $(grep -E 'Elapsed' "$work/time.txt" | sed 's/.*: //') wall, peak memory $(grep 'Maximum resident' "$work/time.txt" | sed 's/.*: //') KiB"
