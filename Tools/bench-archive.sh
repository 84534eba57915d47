#!/usr/bin/env bash
# The archive benchmark (docs/BENCHMARKS.md): generates a deterministic synthetic archive with
# `ledger-bench archive` (the generator: Sources/LedgerBench/ArchiveGenerator.swift, demo keys
# from fixed seeds) and times rebuild, snapshots now and as of earlier moments, and one incident
# as of a moment, each beside its raw limit measured in the same run.
#   bash Tools/bench-archive.sh                                   # 100,000 events, temporary file
#   bash Tools/bench-archive.sh --events 1000000 --ledger /tmp/synthetic-1m.ledger   # kept, reused
# Run it on an otherwise idle machine: the ratios, not the rates, are what to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product ledger-bench >&2
exec .build/release/ledger-bench archive "$@"
