#!/usr/bin/env bash
# The test command: set up what is missing, the Swift test suite, then the independent Python
# verifiers' own tests (Tools/verify_log.py for logs, Tools/verify.py for export bundles).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
swift build --build-tests
swift test --skip-build
python3 Tools/test_verify_log.py
python3 Tools/test_verify.py
