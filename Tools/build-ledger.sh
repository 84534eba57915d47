#!/usr/bin/env bash
# Builds the campaign archive's bundle, Ledger/bundle, from the records in Ledger/records, with the
# DEMO keys (published seeds) and the record times the records give: the same records always give
# byte-identical files.
#
#   bash Tools/build-ledger.sh           rebuild Ledger/bundle
#   bash Tools/build-ledger.sh --check   rebuild into a temporary directory, require it to be
#                                        byte-identical to Ledger/bundle, and audit Ledger/bundle
#                                        (ledger audit and the independent Tools/verify.py)
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1
swift build -c release --product ledger-build >&2
swift build -c release --product ledger >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
.build/release/ledger-build Ledger/records --out "$work/bundle" | tee "$work/build.txt"
genesis="$(sed -n 's/^genesis key id: //p' "$work/build.txt")"
if [ "$check" = 1 ]; then
    diff -r "$work/bundle" Ledger/bundle || { echo "build-ledger: Ledger/bundle is not what Ledger/records build (run bash Tools/build-ledger.sh and commit)" >&2; exit 1; }
    echo "build-ledger: rebuilt bundle is byte-identical to Ledger/bundle"
    .build/release/ledger audit Ledger/bundle --trust "$genesis"
    python3 Tools/verify.py Ledger/bundle --trust "$genesis"
else
    rm -rf Ledger/bundle
    mv "$work/bundle" Ledger/bundle
    echo "build-ledger: wrote Ledger/bundle (audit it: ledger audit Ledger/bundle --trust $genesis)"
fi
