#!/usr/bin/env bash
# The test command: the Swift test suite, then the independent Python verifier's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build
if [ -f Tools/test_verify_log.py ]; then
    python3 Tools/test_verify_log.py
fi
