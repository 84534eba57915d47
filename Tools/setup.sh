#!/usr/bin/env bash
# Installs what IncidentLedger needs on a fresh Debian machine (run as root, or with sudo
# available): libsodium, SQLite headers, pkg-config, PostgreSQL 15 (server binaries for the
# throwaway test clusters of Tools/pg.sh), libcurl (`ledger append --server`), Chromium (the web
# archive's browser tests, Tools/browser.py); and Python's `cryptography` (for the
# independent verifiers) and `bagit` (the Library of Congress BagIt validator, used by the tests). Safe to run again: it installs only what is missing.
set -euo pipefail

need=()
for pkg in libsodium-dev libsqlite3-dev pkg-config postgresql-15 libcurl4 chromium; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${need[@]}"
fi
pkg-config --exists libsodium || { echo "setup: pkg-config cannot find libsodium" >&2; exit 1; }
[ -x /usr/lib/postgresql/15/bin/initdb ] || { echo "setup: PostgreSQL 15's initdb is missing (/usr/lib/postgresql/15/bin)" >&2; exit 1; }

if ! python3 -c "import cryptography" >/dev/null 2>&1; then
    echo "setup: installing the Python cryptography package" >&2
    python3 -m pip install --quiet cryptography 2>/dev/null || python3 -m pip install --quiet --break-system-packages cryptography
fi
# The Library of Congress BagIt tool: the tests check that exports are valid bags with it.
if ! python3 -c "import bagit" >/dev/null 2>&1; then
    echo "setup: installing the Python bagit package" >&2
    python3 -m pip install --quiet bagit 2>/dev/null || python3 -m pip install --quiet --break-system-packages bagit
fi
echo "setup: ok (libsodium $(pkg-config --modversion libsodium), $(swift --version 2>/dev/null | head -n 1))" >&2
