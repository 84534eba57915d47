#!/usr/bin/env bash
# Browse the bundled campaign archive: imports Ledger/bundle into a temporary ledger (after its
# audit) and serves it with `ledger serve` on http://127.0.0.1:${PORT:-8080}/incidents until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh >&2
swift build -c release --product ledger >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
genesis="9d97dda2b27b3eb35077f686518ee348b1e3b4725178f25dc1962a1e563519d1"
.build/release/ledger import Ledger/bundle --ledger "$work/campaign.ledger" --trust "$genesis" > /dev/null
echo "browse.sh: open http://127.0.0.1:${PORT:-8080}/incidents (Ctrl-C stops the server)" >&2
.build/release/ledger serve --ledger "$work/campaign.ledger" --listen "127.0.0.1:${PORT:-8080}"
