#!/usr/bin/env bash
# Sanitizer run: build every rs2fast extension with gcc's AddressSanitizer and UndefinedBehavior-
# Sanitizer (plus bounds checks) in a throwaway copy of the repository, then run the kernel,
# adversarial and fuzz-corpus tests there. Fails if pytest fails or any sanitizer report appears.
# The checkout's own in-place build is never touched.
#
#   PYTHON=python bash .ci/sanitize.sh              (PYTHON: the interpreter to build and test with)
#   RS2FAST_SANITIZE_KEEP=1 bash .ci/sanitize.sh    (keep the copy, e.g. to rerun one test in it)
set -euo pipefail
PYTHON=${PYTHON:-python}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rs2fast-sanitize.XXXXXX")
LOG="$WORK/pytest.log"
started=$SECONDS
cleanup() { if [ "${RS2FAST_SANITIZE_KEEP:-0}" = 1 ]; then echo "copy kept in $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# Only the build tools are installed, and only when missing (pytest and hypothesis are expected).
if ! "$PYTHON" -c "import Cython, setuptools" 2>/dev/null; then
    "$PYTHON" -m pip install -q "Cython>=3.1" "setuptools>=64"
fi
LIBASAN=$(gcc -print-file-name=libasan.so)
if [ ! -e "$LIBASAN" ]; then
    echo "sanitize: gcc's libasan.so was not found (install gcc's libasan)"; exit 1
fi

echo "sanitize: copying the repository to $WORK"
cd "$ROOT"
# Tracked files plus new, not ignored ones (so a working tree is tested as it is); build products
# (*.so, generated *.c) are ignored by .gitignore and so never copied.
git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do [ -f "$file" ] && printf '%s\0' "$file"; done |
    tar --null -T - -cf - | tar -xf - -C "$WORK"
cd "$WORK"

extensions=$(cd rs2fast && ls _*.pyx | sed 's/\.pyx$//' | paste -sd, -)
echo "sanitize: building $extensions with -fsanitize=address,undefined ($((SECONDS - started)) s)"
if ! RS2FAST_EXTENSIONS="$extensions" RS2FAST_SANITIZE=address,undefined RS2FAST_DEBUG=1 \
        "$PYTHON" setup.py build_ext --inplace --force > "$WORK/build.log" 2>&1; then
    tail -40 "$WORK/build.log"; echo "sanitize: build failed"; exit 1
fi
for so in rs2fast/_*.so; do
    libs=$(ldd "$so")
    if ! grep -q libasan <<< "$libs" || ! grep -q libubsan <<< "$libs"; then
        echo "sanitize: $so is not linked against libasan/libubsan: the sanitizer flags did not apply"
        exit 1
    fi
done

# The kernels' own tests, the attacks on their entry points (arguments whose conversion runs user
# code, buffers changed under a split, re-entrant callbacks; crashes there fail in a child
# interpreter, which inherits the sanitizer settings and reports to the log) and the Python layers
# that drive them (the processor's batch reorder and byte accounting, the queue over the heap).
tests=(tests/test_batch.py tests/test_ring.py tests/test_cursor.py tests/test_chunk.py tests/test_checksums.py tests/test_heap.py tests/test_reorder.py
       tests/adversarial)
if [ ! -e tests/adversarial/test_c_entry_points.py ]; then
    echo "sanitize: tests/adversarial/test_c_entry_points.py is missing"; exit 1
fi
for optional in tests/test_packets.py tests/test_h264.py tests/test_queue.py tests/test_priority_queue.py \
        tests/test_chunk_processor.py tests/test_processor_stateful.py tests/test_fuzz_targets.py \
        tests/test_leaks.py; do
    [ -e "$optional" ] && tests+=("$optional")
done

echo "sanitize: pytest ${tests[*]} ($((SECONDS - started)) s)"
# LeakSanitizer is off: CPython keeps interned objects, caches and module state alive until exit
# on purpose, so its leak report would be all noise. PYTHONMALLOC=malloc sends Python's own
# allocations through malloc so that ASan sees (and guards) them too. allocator_may_return_null
# lets tests that ask for impossible sizes get MemoryError instead of an ASan abort.
# `env -u CI` selects the smaller "dev" hypothesis profile (tests/conftest.py) to bound the time.
san_env=(LD_PRELOAD="$LIBASAN"
         ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1
         UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
         PYTHONMALLOC=malloc)
sanitized() { env -u CI "${san_env[@]}" "$@"; }
# Self-check: ASan is live and sees Python's allocations (an intercepted memmove past a buffer
# made by CPython must be reported), so a clean run below means something.
probe=$(sanitized "$PYTHON" -c "import ctypes; ctypes.memmove(ctypes.create_string_buffer(64),
        ctypes.create_string_buffer(16), 48)" 2>&1 || true)
if ! grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" <<< "$probe"; then
    echo "sanitize: AddressSanitizer did not report a deliberate overflow: the setup is broken"; exit 1
fi
# The tests must import the instrumented copy, not an installed (e.g. editable) rs2fast.
where=$(sanitized "$PYTHON" -c "import rs2fast._chunk as m; print(m.__file__)")
case "$where" in
    "$WORK"/*) ;;
    *) echo "sanitize: rs2fast was imported from $where, not from the sanitizer build"; exit 1 ;;
esac
# A hang must not stall CI: pytest dumps every thread's stack after a test runs for
# RS2FAST_SANITIZE_HANG seconds, and the whole run is stopped after RS2FAST_SANITIZE_LIMIT.
status=0
timeout -k 10 "${RS2FAST_SANITIZE_LIMIT:-900}" env -u CI "${san_env[@]}" "$PYTHON" -m pytest -q -p no:cacheprovider -o faulthandler_timeout="${RS2FAST_SANITIZE_HANG:-300}" \
    "${tests[@]}" > "$LOG" 2>&1 || status=$?
tail -25 "$LOG"

if grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|SUMMARY: UndefinedBehaviorSanitizer" "$LOG"; then
    echo "sanitize: sanitizer report(s):"
    grep -nE -A30 "ERROR: AddressSanitizer|runtime error:" "$LOG" | head -120
    exit 1
fi
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    grep -n -B2 -A40 "Timeout (0:" "$LOG" | head -120
    echo "sanitize: pytest did not finish within ${RS2FAST_SANITIZE_LIMIT:-900} s (a hang?)"; exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "sanitize: pytest failed (exit $status) under the sanitizer build"; exit 1
fi
echo "sanitize: clean ($((SECONDS - started)) s)"
