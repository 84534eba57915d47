#!/usr/bin/env bash
# The benchmark harness (docs/BENCHMARKS.md): for each size, a synthetic campaign-shaped archive
# is generated (demo keys from fixed seeds) and every operation DESIGN.md sets a goal for is timed
# beside its raw limit measured in the same run: bulk append, durable single append, verify,
# audit, export, rebuild, whole-archive snapshot as of a moment, one incident as of a moment,
# inclusion and consistency proofs; then the CLI commands run in their own processes for wall
# time and peak memory (/usr/bin/time). Prints Markdown tables.
#
#   bash Tools/bench.sh                                   # 10,000, 100,000 and 1,000,000 events, best of 2
#   bash Tools/bench.sh --sizes 10000 --rounds 1          # a quick look
#   bash Tools/bench.sh --sizes 100000,1000000 --peer     # also the Python eventsourcing peer on the same
#                                                         # events (issue 17; Tools/peer/, its venv from PyPI)
#
# Run it on an otherwise idle machine (1,000,000 events take about 20 minutes and 5 GB of memory
# and disk): compare the ratios, not the rates. Focused older runs: `ledger-bench` (the log alone),
# Tools/bench-archive.sh, Tools/bench-audit.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh >&2
if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y time >&2; else echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; fi
fi
swift build -c release --product ledger-bench >&2
swift build -c release --product ledger >&2
exec .build/release/ledger-bench suite "$@"
