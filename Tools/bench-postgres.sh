#!/usr/bin/env bash
# The ledger on PostgreSQL beside the bare limits of the same server, in the same run
# (docs/BENCHMARKS.md, "PostgreSQL"): bulk append vs bare batched inserts + two-core libsodium
# verify, durable single append vs bare one-transaction-per-row commits, one incident as of a
# moment (`show --as-of`). A throwaway cluster (Tools/pg.sh: Unix socket only) is started first
# and stopped at the end, also on failure.
#
#   bash Tools/bench-postgres.sh                               # 10,000 and 100,000 events, best of 2
#   bash Tools/bench-postgres.sh --sizes 1000000 --rounds 1    # the 1,000,000-event figures
#
# Run it on an otherwise idle machine; compare the ratios, not the rates.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh >&2
swift build -c release --product ledger-bench >&2
eval "$(bash Tools/pg.sh start)"
trap 'bash Tools/pg.sh stop "$LEDGER_TEST_PGDIR"' EXIT
.build/release/ledger-bench postgres --url "$LEDGER_TEST_DATABASE_URL" "$@"
