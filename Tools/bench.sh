#!/usr/bin/env bash
# Benchmarks against the raw limits, measured in the same run (see docs/BENCHMARKS.md).
#   bash Tools/bench.sh                      # 100,000 events, 2,000 durable appends, best of 3
#   bash Tools/bench.sh --events 10000 --rounds 1
# Run it on an otherwise idle machine: the ratios, not the rates, are what to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product ledger-bench >&2
exec .build/release/ledger-bench "$@"
