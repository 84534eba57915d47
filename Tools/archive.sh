#!/usr/bin/env bash
# The README's first command. Sets up and builds, then does what an auditor and a reader would do
# with the bundled campaign archive (Ledger/bundle): audits it with nothing but the published
# genesis key id (twice: `ledger audit` and the independent Python verifier), imports it into a
# ledger file, and shows one incident as it stands now, its history, and as the archive held it
# at an earlier moment; then one monitoring group's count and the public CSV.
#
#   bash Tools/archive.sh [INCIDENT_ID [EARLIER_MOMENT]]
#
# The archive is signed with DEMO keys derived from published seeds (Ledger/README.md): it shows
# how the tool works and is evidence of nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
incident="${1:-incident:2019-05-05-kafr-nabl-surgical}"
earlier="${2:-2019-06-01T00:00:00Z}"
# The demo genesis key id, published in Ledger/README.md; an auditor gets it out of band, never
# from the bundle itself.
genesis="9d97dda2b27b3eb35077f686518ee348b1e3b4725178f25dc1962a1e563519d1"

bash Tools/setup.sh
swift build -c release --product ledger
L="$PWD/.build/release/ledger"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "audit Ledger/bundle, trusting only the genesis key id $genesis"
"$L" audit Ledger/bundle --trust "$genesis"
step "the same audit by the independent Python verifier (Tools/verify.py, written from docs/FORMAT.md alone)"
python3 Tools/verify.py Ledger/bundle --trust "$genesis"

step "import the audited bundle into a ledger file (the rules re-applied, the root must match)"
"$L" import Ledger/bundle --ledger "$work/campaign.ledger" --trust "$genesis"
"$L" verify --ledger "$work/campaign.ledger" --trust "$genesis" | head -3

step "the archive: every incident, in id order"
"$L" list --ledger "$work/campaign.ledger"

step "$incident as it stands now"
"$L" show --ledger "$work/campaign.ledger" "$incident"

step "its history: every signed change, field by field"
"$L" history --ledger "$work/campaign.ledger" "$incident"

step "$incident as the archive held it on $earlier"
"$L" show --ledger "$work/campaign.ledger" "$incident" --as-of "$earlier"

step "a monitoring group's count, recorded as a count (never split into invented incidents)"
"$L" show --ledger "$work/campaign.ledger" aggregate:un-ocha-2019-idlib-facilities

step "the public CSV (first lines; no sensitive fields), naming the tree size and root it was built from"
"$L" export-csv --ledger "$work/campaign.ledger" | head -4

step "browse the archive: the web pages of ledger serve (docs/SERVER.md)"
echo "Run this, then open http://127.0.0.1:8080/incidents in a browser (Ctrl-C stops it):"
echo
echo "    bash Tools/browse.sh"
