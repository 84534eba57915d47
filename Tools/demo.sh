#!/usr/bin/env bash
# A newcomer's first run: set up, build, and walk through a small signed ledger: keys, genesis,
# enrollment, events, a checkpoint, the log, and a full verification. Demo keys only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
swift build -c release --product ledger
L="$PWD/.build/release/ledger"
repo="$PWD"
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

echo "== enroll an archivist, a reviewer and the log key"
"$L" key new --name "Demo reviewer" --out reviewer.key --kdf interactive
"$L" key enroll --ledger demo.ledger --key admin.key --public-key-file archivist.key --roles archivist
"$L" key enroll --ledger demo.ledger --key admin.key --public-key-file reviewer.key --roles reviewer
"$L" key enroll --ledger demo.ledger --key admin.key --public-key-file log.key --roles log

echo "== an archivist registers a facility, two actors and a source in one batch (one transaction)"
cat > registry.jsonl <<'JSON'
{"type": "facility.registered", "subject": "facility:kafr-nabl-surgical", "expects": 0, "body": {"names": {"en": "Kafr Nabl Surgical Hospital", "ar": "مستشفى كفرنبل الجراحي"}, "type": "hospital", "location": {"admin1": "Idlib", "town": "Kafr Nabl"}}}
{"type": "actor.registered", "subject": "actor:ru-aerospace-forces", "expects": 0, "body": {"names": {"en": "Russian Aerospace Forces"}, "type": "state-forces", "country": "RU"}}
{"type": "actor.registered", "subject": "actor:sy-government-forces", "expects": 0, "body": {"names": {"en": "Syrian government forces"}, "type": "state-forces", "country": "SY"}}
{"type": "source.registered", "subject": "source:nyt-2019-10", "expects": 0, "body": {"publisher": "The New York Times", "title": "Investigation tying the May 2019 Idlib hospital strikes to Russian pilots", "lang": "en", "type": "investigation", "published": "2019-10"}}
JSON
"$L" append --ledger demo.ledger --key archivist.key --batch registry.jsonl

echo "== the first report, signed offline, then appended (what was known in May 2019)"
cat > report.json <<'JSON'
{"type": "incident.reported", "subject": "incident:2019-05-kafr-nabl-surgical", "expects": 0,
 "body": {"title": {"en": "Airstrike on Kafr Nabl Surgical Hospital", "ar": "غارة على مستشفى كفرنبل الجراحي"},
          "occurred": "2019-05", "place": {"admin1": "Idlib", "town": "Kafr Nabl"},
          "facilities": [{"facility": "facility:kafr-nabl-surgical", "impact": "unknown"}], "means": ["airstrike"]}}
JSON
"$L" sign --key archivist.key --origin demo.incidentledger.example/syria-health-care report.json > report.envelope
"$L" append --ledger demo.ledger --signed report.envelope
echo "   re-submitting the same envelope is idempotent:"
"$L" append --ledger demo.ledger --signed report.envelope
before_investigation=$("$L" log --ledger demo.ledger --json | wc -l)

echo "== later evidence: the investigation narrows the date and names the perpetrator; Russia denies"
cat > later.jsonl <<'JSON'
{"type": "incident.corrected", "subject": "incident:2019-05-kafr-nabl-surgical", "expects": 1, "body": {"changes": {"occurred": "2019-05-05/2019-05-06"}, "reason": "the investigation places the strike within 12 hours on 5-6 May 2019"}}
{"type": "incident.source-cited", "subject": "incident:2019-05-kafr-nabl-surgical", "expects": 2, "body": {"source": "source:nyt-2019-10"}}
{"type": "attribution.claimed", "subject": "incident:2019-05-kafr-nabl-surgical", "expects": 3, "body": {"claimant": "source:nyt-2019-10", "perpetrator": "actor:ru-aerospace-forces", "stance": "asserts", "basis": ["radio-intercepts", "flight-observations", "witness-testimony"], "source": "source:nyt-2019-10"}}
{"type": "attribution.claimed", "subject": "incident:2019-05-kafr-nabl-surgical", "expects": 4, "body": {"claimant": "actor:ru-aerospace-forces", "perpetrator": "actor:ru-aerospace-forces", "stance": "denies", "basis": ["official-statement"], "alternative": "Russia denies targeting hospitals"}}
JSON
"$L" append --ledger demo.ledger --key archivist.key --batch later.jsonl

echo "== a reviewer assesses"
echo '{"type": "attribution.assessed", "subject": "incident:2019-05-kafr-nabl-surgical", "expects": 5, "body": {"perpetrator": "actor:ru-aerospace-forces", "confidence": "high", "rationale": "pilot radio recordings and plane-spotter logs tie the strike to a Russian aircraft"}}' \
  | "$L" append --ledger demo.ledger --key reviewer.key

echo "== bad input is refused with the field named, and nothing is written"
set +e
echo '{"type": "incident.corrected", "subject": "incident:2019-05-kafr-nabl-surgical", "expects": 6, "body": {"changes": {"colour": "red"}, "reason": "demo"}}' | "$L" append --ledger demo.ledger --key archivist.key
echo "   exit code: $?"
echo '{"type": "incident.corrected", "subject": "incident:2019-05-kafr-nabl-surgical", "expects": 0, "body": {"changes": {"means": ["airstrike", "double-tap"]}, "reason": "demo"}}' | "$L" append --ledger demo.ledger --key archivist.key
echo "   exit code: $? (stale expects: re-read and retry)"
set -e

echo "== a spreadsheet from local monitors comes in through a mapping: every row or none"
cat > sheet.csv <<'CSV'
Ref,Title,Date,Governorate,Town,Weapons
17,"Shelling near a clinic, Maarat al-Numan",03/06/2019,Idlib,Maarat al-Numan,shelling
18,Airstrike on a field hospital,7/6/2019,Idlib,Khan Sheikhoun,Air strike
CSV
cat > sheet-mapping.json <<'JSON'
{"format": "incidentledger-csv-mapping/1", "id": {"column": "Ref", "prefix": "monitors-"}, "dataset": "Local monitors' sheet (demo)",
 "dates": "DD/MM/YYYY", "columns": {"title.en": "Title", "occurred": "Date", "place.admin1": "Governorate", "place.town": "Town", "means": "Weapons"},
 "values": {"means": {"Air strike": "airstrike"}}}
JSON
printf '19,Bad date,31/02/2019,Idlib,Kafr Nabl,airstrike\n20,Bad means,01/06/2019,Idlib,Kafr Nabl,napalm\n' > bad-sheet.csv
(head -1 sheet.csv; cat bad-sheet.csv) > bad-with-header.csv
set +e
"$L" import-csv bad-with-header.csv --mapping sheet-mapping.json --ledger demo.ledger --key archivist.key
echo "   exit code: $? (every bad row listed; nothing imported)"
set -e
"$L" import-csv sheet.csv --mapping sheet-mapping.json --ledger demo.ledger --key archivist.key

echo "== checkpoint"
"$L" checkpoint --ledger demo.ledger --key log.key

echo "== log"
"$L" log --ledger demo.ledger

echo "== verify, pinning the genesis key id an auditor would obtain out of band"
"$L" verify --ledger demo.ledger --trust "$genesis"

echo "== the incident now"
"$L" show --ledger demo.ledger incident:2019-05-kafr-nabl-surgical
echo "== its history"
"$L" history --ledger demo.ledger incident:2019-05-kafr-nabl-surgical
echo "== as the archive held it before the investigation (tree size $before_investigation)"
"$L" show --ledger demo.ledger incident:2019-05-kafr-nabl-surgical --at-size "$before_investigation"
echo "== the facility and its attack history"
"$L" show --ledger demo.ledger facility:kafr-nabl-surgical
echo "== incidents attributed to the Russian Aerospace Forces"
"$L" list --ledger demo.ledger --perpetrator actor:ru-aerospace-forces
echo "== a snapshot as of the first report, written twice after all the later appends: identical bytes"
"$L" snapshot --ledger demo.ledger --at-size "$before_investigation" --out snap1.json
"$L" snapshot --ledger demo.ledger --at-size "$before_investigation" --out snap2.json
cmp snap1.json snap2.json && echo "   identical"
echo "== projections rebuilt from the log"
"$L" rebuild --ledger demo.ledger

echo "== an auditor's day: the operator exports a bundle; the auditor checks it with no database"
"$L" export --ledger demo.ledger --out bundle --export-time 2026-01-01T00:00:00Z
"$L" audit bundle --trust "$genesis"
python3 "$repo/Tools/verify.py" bundle --trust "$genesis" && echo "   (Tools/verify.py, written from docs/FORMAT.md alone, agrees)"
echo "== a witness cosigns the checkpoint; the operator attaches it; the audit then requires it"
"$L" key new --name "Demo witness" --out witness.key --kdf interactive
logvkey=$("$L" key vkey log.key --name demo.incidentledger.example/syria-health-care)
"$L" checkpoint --ledger demo.ledger --list > checkpoint.note
"$L" witness --key witness.key --state witness-state --name witness.demo.example/w1 --log-key "$logvkey" checkpoint.note > cosigned.note
wvkey=$("$L" key vkey witness.key --name witness.demo.example/w1 --witness)
"$L" checkpoint --ledger demo.ledger --attach cosigned.note --witness "$wvkey"
"$L" export --ledger demo.ledger --out bundle-cosigned
"$L" audit bundle-cosigned --trust "$genesis" --witness "$wvkey" --quorum 1
echo "== a tampered copy fails, naming the entry"
cp -r bundle bundle-tampered
python3 - bundle-tampered/data/entries.jsonl <<'PY'
import sys
p = sys.argv[1]
lines = open(p, 'rb').read().split(b'\n')
i = lines[8].index(b'"payload":"') + 60
lines[8] = lines[8][:i] + (b'B' if lines[8][i:i+1] != b'B' else b'C') + lines[8][i+1:]
open(p, 'wb').write(b'\n'.join(lines))
PY
set +e
"$L" audit bundle-tampered --trust "$genesis"
echo "   exit code: $?"
set -e
echo "== an inclusion proof for entry 8, checked offline with the log's verifier key"
"$L" prove inclusion --ledger demo.ledger --index 8 --out e8.tlog-proof
"$L" check-proof e8.tlog-proof --log-key "$logvkey"
