#!/usr/bin/env bash
# Fuzzes every decoder of untrusted input with ledger-fuzz (Sources/LedgerFuzz), a seeded
# mutation generator: envelopes, payloads, entry lines, checkpoint notes, proof files, bag
# manifests and bag-info, verifier keys, EDTF, language tags, CSV sheets and mappings, archive
# bodies, the JSON Lines reader and the streaming verifier. Each decoder must return or throw:
# a crash, an input running over 1 s, or a broken round-trip property fails the run.
#
#   bash Tools/fuzz.sh                 full run: 64,000 inputs per target, >= 1,000,000 in all
#   bash Tools/fuzz.sh --quick         CI run: 18,000 per target, ~350,000 in all (about a minute on 2 cores, plus the build)
#   bash Tools/fuzz.sh --inputs N      N per target (the slow targets jsonl-reader and log run N/5)
#   bash Tools/fuzz.sh --seed S        another seed (default 1); the same seed gives the same inputs
#   bash Tools/fuzz.sh --target a,b    only these targets (ledger-fuzz --list names them)
#   bash Tools/fuzz.sh --libfuzzer T [SECONDS]
#                                      libFuzzer (-sanitize=fuzzer,address) on target T for SECONDS (default 60)
#
# Targets run as separate processes, $FUZZ_JOBS at a time (default: the number of cores).
# Saved inputs (crash-*, hang-*, slow-*, violation-*) go to .build-fuzz/crashes; replay one with
#   .build-fuzz/release/ledger-fuzz --target T --replay FILE
# and add it to Tests/*/FuzzRegressionTests.swift once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."

inputs=64000
seed=1
targets=all
libfuzzer=""
seconds=60
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) inputs=18000 ;;
        --inputs) inputs="$2"; shift ;;
        --seed) seed="$2"; shift ;;
        --target) targets="$2"; shift ;;
        --libfuzzer)
            libfuzzer="$2"; shift
            if [ $# -gt 1 ] && [[ "$2" =~ ^[0-9]+$ ]]; then seconds="$2"; shift; fi ;;
        *) echo "usage: bash Tools/fuzz.sh [--quick] [--inputs N] [--seed S] [--target a,b] [--libfuzzer TARGET [SECONDS]]" >&2; exit 64 ;;
    esac
    shift
done

scratch=.build-fuzz
crashes="$scratch/crashes"
mkdir -p "$crashes"
bundle_args=()
[ -d Ledger/bundle ] && bundle_args=(--bundle Ledger/bundle)

if [ -n "$libfuzzer" ]; then
    # libFuzzer: coverage-guided, in-process. The same target code, built with LIBFUZZER defined
    # (no main; LLVMFuzzerTestOneInput is the entry) and -parse-as-library, in its own scratch path.
    lf=.build-libfuzzer
    swift build -c release --product ledger-fuzz --scratch-path "$lf" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DLIBFUZZER
    bin="$lf/release/ledger-fuzz"
    corpus="$lf/corpus/$libfuzzer"
    mkdir -p "$corpus" "$crashes"
    # The seed inputs come from the mutation build (which has a main); build it if needed.
    swift build -c release --product ledger-fuzz --scratch-path "$scratch" >/dev/null
    "$scratch/release/ledger-fuzz" --target "$libfuzzer" "${bundle_args[@]}" --write-corpus "$lf/seeds" >/dev/null
    echo "libFuzzer: target $libfuzzer for ${seconds}s (corpus $corpus, crashes in $crashes)"
    LEDGER_FUZZ_TARGET="$libfuzzer" ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
        "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=1100000 \
        -artifact_prefix="$crashes/libfuzzer-$libfuzzer-" -print_final_stats=1 "$corpus" "$lf/seeds/$libfuzzer"
    exit $?
fi

swift build -c release --product ledger-fuzz --scratch-path "$scratch"
bin="$scratch/release/ledger-fuzz"
if [ "$targets" = all ]; then
    targets=$("$bin" --list | awk '{print $1}' | paste -sd, -)
fi

jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
start=$(date +%s)
echo "ledger-fuzz: seed $seed, $inputs inputs per target, $jobs at a time"
status=0
# One process per target; a crash or hang ends only that target's process, and is reported.
echo "$targets" | tr , '\n' | xargs -P "$jobs" -I{} sh -c \
    '"$1" --target "$2" --inputs "$3" --seed "$4" --save-crashes "$5" '"${bundle_args[*]:-}"' >"$6/$2.out" 2>"$6/$2.err"; echo $? >"$6/$2.rc"' \
    sh "$bin" {} "$inputs" "$seed" "$crashes" "$logs" || true

for t in $(echo "$targets" | tr , ' '); do
    rc=$(cat "$logs/$t.rc" 2>/dev/null || echo 99)
    line=$(grep -E "^$t " "$logs/$t.out" || true)
    if [ -n "$line" ]; then echo "$line"; else echo "$t: no result (exit $rc)"; fi
    if [ "$rc" != 0 ]; then
        status=1
        echo "  $t FAILED (exit $rc):"
        { grep -E "ledger-fuzz: |Program crashed|Fatal error|error:" "$logs/$t.err" || tail -20 "$logs/$t.err"; } | head -20 | sed 's/^/    /'
    fi
done
cat "$logs"/*.out | awk '
    / inputs / && $1 != "TOTAL" {
        for (i = 1; i < NF; i++) {
            if ($i == "inputs") n += $(i + 1); if ($i == "accepted") a += $(i + 1); if ($i == "rejected") r += $(i + 1)
            if ($i == "violations") v += $(i + 1); if ($i == "slow") s += $(i + 1); if ($i == "max" && $(i + 1) + 0 > m) m = $(i + 1) + 0
        }
    }
    END { printf "TOTAL              inputs %9d  accepted %8d  rejected %9d  violations %d  slow %d  max %8.3f ms\n", n, a, r, v, s, m }'
echo "wall time: $(( $(date +%s) - start )) s"
if [ "$status" != 0 ]; then echo "FUZZING FAILED: see above; inputs saved in $crashes"; fi
exit "$status"
