#!/usr/bin/env bash
# Runs the side-by-side peer (Tools/peer/peer.py: the Python `eventsourcing` library on SQLite)
# in its own virtual environment, made on first use in .build-peer/venv with the versions pinned
# in Tools/peer/requirements.txt (from PyPI). `ledger-bench suite --peer` calls it; arguments go
# to peer.py (see `bash Tools/peer/run.sh --help`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${LEDGER_PEER_VENV:-$repo/.build-peer/venv}"
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$stamp"; then
    echo "peer: making the virtual environment $venv (eventsourcing, PyNaCl from PyPI)" >&2
    python3 -m venv "$venv" || { echo "peer: python3 -m venv failed; on Debian: apt-get install python3-venv" >&2; exit 2; }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
    cp "$here/requirements.txt" "$stamp"
fi
exec "$venv/bin/python" "$here/peer.py" "$@"
