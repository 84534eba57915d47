#!/usr/bin/env bash
# The test command: set up what is missing, the style lint, the Swift test suite, the independent
# Python verifiers' own tests (Tools/verify_log.py for logs, Tools/verify.py for export bundles),
# then the reproducibility and audit of the bundled campaign archive, schemathesis against a live
# `ledger serve`, then short runs of the crash,
# tamper, concurrency and fuzz evidence scripts (docs/EVIDENCE.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
# A throwaway PostgreSQL cluster (Tools/pg.sh: initdb in a temporary folder, Unix socket only, no
# password), stopped and deleted when this script ends, also on failure: every store-level test
# runs against it as well as against SQLite, and must (LEDGER_REQUIRE_POSTGRES).
eval "$(bash Tools/pg.sh start)"
trap 'bash Tools/pg.sh stop "$LEDGER_TEST_PGDIR"' EXIT
export LEDGER_REQUIRE_POSTGRES=1
# Style lint with the toolchain's swift-format and .swift-format: any finding fails the run.
swift format lint --strict --recursive Sources Tests Package.swift
swift build --build-tests
swift test --skip-build
python3 Tools/test_verify_log.py
python3 Tools/test_verify.py
# The bundled campaign archive: rebuilt from Ledger/records it must be byte-identical, and audit.
bash Tools/build-ledger.sh --check
# schemathesis (PyPI) against a live `ledger serve` on loopback: every operation of docs/openapi.yaml,
# 25 generated requests each; no 5xx, every reply as documented, nothing written.
bash Tools/schemathesis.sh
# The web archive in headless Chromium: each kind of page, its DOM and accessibility basics, and the
# in-browser verification of incident pages (and its failure when a served proof is changed).
python3 Tools/browser.py
# Every page of the campaign archive, with a deconfliction record and exact coordinates appended:
# none may show them (nor may an entry line an incident page carries).
python3 Tools/public_pages.py
# Evidence (docs/EVIDENCE.md), short runs against the release binary built just above:
# kill -9 during appends, single-byte tampering, concurrent writers.
python3 Tools/crash.py --quick
python3 Tools/crash.py --postgres --quick
# kill -9 of `ledger serve` while four clients post (every 201/200 must be in the log), both stores.
python3 Tools/crash.py --server --quick
python3 Tools/crash.py --server --postgres --quick
python3 Tools/tamper.py --quick
python3 Tools/concurrency.py --quick
# The same against PostgreSQL: each script starts, and stops, a throwaway cluster of its own.
python3 Tools/tamper.py --postgres --quick
python3 Tools/concurrency.py --postgres --quick
bash Tools/fuzz.sh --quick
# The README's first command, end to end (audit, import and views of the bundled archive).
bash Tools/archive.sh > /dev/null
