#!/usr/bin/env bash
# schemathesis (PyPI, pinned below, in its own virtual environment .build-schemathesis/venv) against
# a live `ledger serve` on loopback over a copy of the bundled campaign archive: every operation of
# docs/openapi.yaml with a bounded number of generated requests each, and every check but
# positive_data_acceptance (a schema cannot say which envelopes are signed by an enrolled key, which
# dates have passed or which sizes the log has reached). Fails on any 5xx, any reply that does not
# match the document (status, content type, headers, body schema), a 404 instead of 405 for a method
# a path does not take, and if anything was written. The server is stopped at the end, also on
# failure. Used by Tools/test.sh; EXAMPLES=N sets the requests per operation (default 25).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
requirement="schemathesis==4.32.5"
venv="${LEDGER_ST_VENV:-$repo/.build-schemathesis/venv}"
if [ ! -x "$venv/bin/st" ] || [ "$(cat "$venv/.requirement" 2>/dev/null)" != "$requirement" ]; then
    echo "schemathesis: making the virtual environment $venv ($requirement from PyPI)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "$requirement"
    echo "$requirement" > "$venv/.requirement"
fi
bin="${LEDGER_BIN:-$repo/.build/release/ledger}"
[ -x "$bin" ] || swift build -c release --product ledger >&2
work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -KILL "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
genesis="9d97dda2b27b3eb35077f686518ee348b1e3b4725178f25dc1962a1e563519d1"
"$bin" import Ledger/bundle --ledger "$work/campaign.ledger" --trust "$genesis" > /dev/null
before=$("$bin" log --ledger "$work/campaign.ledger" --raw | sha256sum)
"$bin" serve --ledger "$work/campaign.ledger" --listen 127.0.0.1:0 > "$work/out" 2> "$work/err" &
server=$!
url=""
for _ in $(seq 1 300); do
    url=$(sed -n 's/^listening on //p' "$work/out")
    [ -n "$url" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
    sleep 0.1
done
[ -n "$url" ] || { echo "schemathesis: the server did not start" >&2; exit 1; }
echo "schemathesis: $requirement against $url" >&2
(cd "$work" && timeout 900 "$venv/bin/st" run "$url/openapi.yaml" --url "$url" --max-examples "${EXAMPLES:-25}" \
    --checks all --exclude-checks positive_data_acceptance --generation-deterministic \
    --request-timeout 30 --no-color)
after=$("$bin" log --ledger "$work/campaign.ledger" --raw | sha256sum)
[ "$before" = "$after" ] || { echo "schemathesis: the log changed under generated requests" >&2; exit 1; }
kill -TERM "$server"
status=0
wait "$server" || status=$?
[ "$status" -eq 0 ] || { echo "schemathesis: the server exited $status on SIGTERM" >&2; exit 1; }
server=""
echo "schemathesis: passed; the log is unchanged and the server stopped cleanly" >&2
