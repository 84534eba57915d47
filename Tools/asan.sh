#!/usr/bin/env bash
# Builds and runs the Swift test suite under AddressSanitizer (with LeakSanitizer), in its own
# scratch path so it never disturbs the normal build:
#
#   bash Tools/asan.sh [extra swift test arguments, e.g. --filter FuzzRegression]
#
# Every Swift module (the package's and its dependencies') is compiled with -sanitize=address;
# C libraries from the system (libsodium, SQLite) are not instrumented, so their own internal
# accesses are not checked, but every access Swift code makes to memory they hand back is. The
# CLI tests run the instrumented `ledger` binary, which inherits the settings below.
#
# Environment (set ASAN_OPTIONS, LSAN_OPTIONS or SWIFT_BACKTRACE yourself to override):
#   ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1
#     An ASan report ends the test process with exit status 1, which fails `swift test` and this
#     script. (Not abort_on_error: the abort then goes to the Swift backtracer, see below.)
#   LSAN_OPTIONS=suppressions=.build-asan/lsan.supp (written by this script). Leaks are checked at
#     each process's exit, except four kinds, none of which has a frame in Sources/:
#       leak:libXCTest.so          XCTest's runner keeps its suite-run objects until exit (144
#                                  bytes), so `swift test` would fail before any test ran;
#       leak:readBytesFromFile     Foundation's FileManager.contents(atPath:) loses its 4 KiB read
#                                  buffer (seen from the CLI tests' WAL and output reads);
#       leak:CLIHarness.swift      the CLI tests' harness leaks its Foundation Process, FileHandle
#                                  and pipe objects (~600 KB over the CLI tests): test scaffolding;
#       leak:InputKeyV8fullPath    swift-argument-parser 1.8.2 loses 48 bytes (an InputKey path
#                                  array) when it reports an invalid option value and exits
#                                  (`--at-size -1`): inside the dependency, at process exit.
#   SWIFT_BACKTRACE=enable=no
#     The Swift runtime's backtracer, attached to an aborting ASan process (whose address space
#     holds terabytes of shadow mappings), spun for over 20 minutes here. ASan prints its own
#     stack for every report; a Swift trap still ends the process (SIGILL) and fails the run.
#   ASAN_LEAKS=0  turns leak detection off altogether.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
scratch=.build-asan
mkdir -p "$scratch"
printf 'leak:libXCTest.so\nleak:readBytesFromFile\nleak:CLIHarness.swift\nleak:InputKeyV8fullPath\n' >"$scratch/lsan.supp"
leaks=1
[ "${ASAN_LEAKS:-1}" = 0 ] && leaks=0
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=$leaks:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/$scratch/lsan.supp:print_suppressions=0}"
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
flags=(--scratch-path "$scratch" -Xswiftc -sanitize=address)
start=$(date +%s)
swift build --build-tests "${flags[@]}"
swift test --skip-build "${flags[@]}" "$@"
echo "asan.sh: the test suite passed under AddressSanitizer in $(( $(date +%s) - start )) s"
echo "  ASAN_OPTIONS=$ASAN_OPTIONS"
echo "  LSAN_OPTIONS=$LSAN_OPTIONS"
