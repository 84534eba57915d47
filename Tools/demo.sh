#!/usr/bin/env bash
# A newcomer's first run: set up, build, and walk through a small signed ledger: keys, genesis,
# enrollment, events, a checkpoint, the log, and a full verification. Demo keys only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
swift build -c release --product ledger
L="$PWD/.build/release/ledger"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export LEDGER_PASSPHRASE="demo passphrase, not for real use"

echo "== keys (DEMO keys: throwaway, never for real evidence)"
"$L" key new --name "Demo admin" --out admin.key --kdf interactive
"$L" key new --name "Demo archivist" --out archivist.key --kdf interactive
"$L" key new --name "Demo log" --out log.key --kdf interactive

echo "== genesis"
"$L" init --ledger demo.ledger --origin demo.incidentledger.example/syria-health-care --admin-key admin.key
genesis=$("$L" key show admin.key --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["keyid"])')

echo "== enroll the archivist and the log key"
"$L" key enroll --ledger demo.ledger --key admin.key --public-key-file archivist.key --roles archivist
"$L" key enroll --ledger demo.ledger --key admin.key --public-key-file log.key --roles log

echo "== an archivist signs offline, then appends"
cat > report.json <<'JSON'
{"type": "incident.reported", "subject": "incident-m10-2016-10", "expects": 0,
 "body": {"title": {"en": "Airstrikes on M10 hospital, Aleppo", "ar": "غارات على مستشفى M10 في حلب"}, "occurred": "2016-10"}}
JSON
"$L" sign --key archivist.key --origin demo.incidentledger.example/syria-health-care report.json > report.envelope
"$L" append --ledger demo.ledger --signed report.envelope
echo "   re-submitting the same envelope is idempotent:"
"$L" append --ledger demo.ledger --signed report.envelope

echo "== a batch in one transaction"
cat > batch.jsonl <<'JSON'
{"type": "incident.reported", "subject": "incident-m2-2016-07", "expects": 0, "body": {"title": {"en": "Aircraft strike M2 hospital, Aleppo"}, "occurred": "2016-07"}}
{"type": "incident.source-cited", "subject": "incident-m2-2016-07", "expects": 1, "body": {"note": "demo citation"}}
JSON
"$L" append --ledger demo.ledger --key archivist.key --batch batch.jsonl

echo "== a stale expects is refused (exit 4) and nothing is written"
set +e
echo '{"type": "incident.corrected", "subject": "incident-m2-2016-07", "expects": 0, "body": {}}' | "$L" append --ledger demo.ledger --key archivist.key
echo "   exit code: $?"
set -e

echo "== checkpoint"
"$L" checkpoint --ledger demo.ledger --key log.key

echo "== log"
"$L" log --ledger demo.ledger

echo "== verify, pinning the genesis key id an auditor would obtain out of band"
"$L" verify --ledger demo.ledger --trust "$genesis"
