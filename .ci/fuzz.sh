#!/usr/bin/env bash
# Bounded fuzzing: runs every target in tests/fuzz/ under atheris (libFuzzer) for a fixed time,
# starting from its seeds in tests/fuzz/corpus/<target>/. New corpus entries and crash inputs go
# to a temporary directory, never into the repository. Any crash or failed check fails the run.
#
#   PYTHON=python bash .ci/fuzz.sh                 (the interpreter; rs2fast must be built for it)
#   RS2FAST_FUZZ_SECONDS=20                        (per target; default 20)
#   RS2FAST_FUZZ_TARGETS="reorder checksum"        (a subset; default all)
#   RS2FAST_REQUIRE_FUZZ=1                         (fail when atheris cannot be installed)
#   RS2FAST_FUZZ_KEEP=1                            (keep the temporary directory: new corpus, crashes)
#
# Coverage: Python-level only. atheris instruments the Python code each target runs (the oracles,
# json, the reference models); the Cython extensions are built by gcc without libFuzzer's coverage
# instrumentation (that needs clang), so inside them the search is guided only by that feedback.
# Memory errors inside the extensions are the sanitizer run's job (.ci/sanitize.sh runs these
# targets' corpora under ASan/UBSan).
set -euo pipefail
PYTHON=${PYTHON:-python}
SECONDS_PER_TARGET=${RS2FAST_FUZZ_SECONDS:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

if ! "$PYTHON" -c "import atheris" 2>/dev/null; then
    echo "fuzz: installing atheris"
    "$PYTHON" -m pip install -q atheris || true
fi
if ! "$PYTHON" -c "import atheris" 2>/dev/null; then
    echo "fuzz: *** atheris could not be installed for $("$PYTHON" --version 2>&1): NOTHING WAS FUZZED ***"
    echo "fuzz: (the targets still run over their corpora in tests/test_fuzz_targets.py)"
    if [ "${RS2FAST_REQUIRE_FUZZ:-0}" = 1 ]; then exit 1; fi
    exit 0
fi
if ! "$PYTHON" -c "import rs2fast._chunk, rs2fast._reorder" 2>/dev/null; then
    echo "fuzz: rs2fast's extensions are not built for $PYTHON (python setup.py build_ext --inplace)"
    exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rs2fast-fuzz.XXXXXX")
failed=()
cleanup() {     # kept when asked to, or when something failed (the crash inputs are in it)
    if [ "${RS2FAST_FUZZ_KEEP:-0}" = 1 ] || [ "${#failed[@]}" -ne 0 ]; then
        echo "fuzz: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# A libFuzzer dictionary for the JSON target: RS2's field and variant names and JSON edge tokens.
cat > "$WORK/chunk_json.dict" <<'EOF'
"{"
"}"
"["
"]"
":"
","
"\"stream_id\":"
"\"sequence_number\":"
"\"data\":"
"\"chunk_type\":"
"\"priority\":"
"\"timestamp\":"
"\"secs\":"
"\"nanos\":"
"\"is_final\":"
"\"checksum\":"
"\"VideoIFrame\""
"\"VideoPFrame\""
"\"VideoBFrame\""
"\"Audio\""
"\"Metadata\""
"\"Thumbnail\""
"\"High\""
"\"Normal\""
"\"Low\""
"\"crc32c:"
"true"
"false"
"null"
"255"
"256"
"-1"
"1e3"
"0.5"
"18446744073709551615"
"18446744073709551616"
"9223372036"
"999999999"
"\\u0000"
"\\\""
"\xef\xbb\xbf"
EOF

if [ -n "${RS2FAST_FUZZ_TARGETS:-}" ]; then
    read -r -a targets <<< "$RS2FAST_FUZZ_TARGETS"
else
    targets=()
    for file in tests/fuzz/fuzz_*.py; do
        name=$(basename "$file" .py); name=${name#fuzz_}
        [ -d "tests/fuzz/corpus/$name" ] && targets+=("$name")
    done
fi

for name in "${targets[@]}"; do
    mkdir -p "$WORK/corpus/$name" "$WORK/artifacts"
    options=(-max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=60 -max_len=4096
             -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$name-")
    [ -f "$WORK/$name.dict" ] && options+=(-dict="$WORK/$name.dict")
    log="$WORK/$name.log"
    status=0
    # The first corpus directory receives new entries; the repository's seeds are read only.
    "$PYTHON" "tests/fuzz/fuzz_$name.py" "${options[@]}" "$WORK/corpus/$name" "tests/fuzz/corpus/$name" \
        > "$log" 2>&1 || status=$?
    if grep -q "skipped:" "$log"; then
        echo "fuzz: $name: $(grep "skipped:" "$log")"
        continue
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz: $name: ${runs:-?} inputs (limit ${SECONDS_PER_TARGET} s), $(ls "$WORK/corpus/$name" | wc -l) new corpus entries, exit $status"
    if [ "$status" -ne 0 ] || ls "$WORK/artifacts/$name-"* > /dev/null 2>&1; then
        failed+=("$name")
        grep -v "^#\|^INFO:\|^stat::" "$log" | tail -40
        for crash in "$WORK/artifacts/$name-"*; do
            [ -f "$crash" ] || continue
            echo "fuzz: $name: failing input $crash; reproduce:"
            echo "  $PYTHON -c \"import base64, sys; sys.path.insert(0, 'tests/fuzz');" \
                 "import fuzz_$name as t; t.test_one_input(base64.b64decode('$(base64 -w0 "$crash")'))\""
        done
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}"; exit 1
fi
echo "fuzz: ${#targets[@]} targets ran, no findings"
