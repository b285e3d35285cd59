"""Fuzz target: MediaChunk.from_json on arbitrary text.

Each input is tried as bytes, bytearray, Latin-1 text (the C scanner's fast path for >= 512
characters) and UTF-8 text. A finding is: any exception other than TypeError/ValueError; a result
that differs from the plain path (json.loads, then the rules of from_dict restated in Python); a
parsed chunk that does not round-trip through to_json/from_json, to_dict/from_dict and pickle.

Run: python tests/fuzz/fuzz_chunk_json.py tests/fuzz/corpus/chunk_json -max_total_time=60
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
import fuzz_support  # noqa: E402  (puts the repository first on sys.path)

from rs2fast._chunk import MediaChunk  # noqa: E402

_PLAIN_ERRORS = (json.JSONDecodeError, UnicodeDecodeError)


def _variants(data: bytes):
    yield data
    yield bytearray(data)
    yield data.decode("latin-1")
    yield data.decode("utf-8", "replace")


def _outcome(fn, arg):
    try:
        return fn(arg), None
    except (TypeError, ValueError) as error:
        return None, error


def _fails_deeper(text, frames: int = 60) -> bool:
    """Does json.loads hit the recursion limit when called `frames` Python frames deeper?"""
    def dive(n):
        return dive(n - 1) if n else json.loads(text)
    try:
        dive(frames)
    except RecursionError:
        return True
    except ValueError:
        return False
    return False


def _check(text) -> None:
    chunk, error = _outcome(MediaChunk.from_json, text)   # anything else propagates: a finding
    if type(error) is ValueError and _fails_deeper(text):
        return      # nested near the interpreter's limit: where it strikes depends on stack depth
    try:
        parsed = json.loads(text)
    except RecursionError:              # nested too deeply for json: from_json says ValueError
        assert isinstance(error, ValueError), error
        return
    except _PLAIN_ERRORS as plain:
        assert error is not None and type(error) is type(plain), (error, plain)
        return
    expected = fuzz_support.expected_from_dict(parsed)
    if expected is None:
        assert chunk is None, f"from_json accepted what from_dict's rules reject: {parsed!r:.300}"
        # the fast path must fail exactly as the plain path does
        _, slow = _outcome(MediaChunk.from_dict, parsed)
        assert slow is not None and type(slow) is type(error) and str(slow) == str(error), (error, slow)
        return
    assert error is None, f"from_json rejected a valid chunk ({error!r}): {parsed!r:.300}"
    fuzz_support.check_chunk(chunk, expected)


def test_one_input(data: bytes) -> None:
    """One fuzz input: every representation of `data` must parse or fail cleanly and consistently."""
    for text in _variants(bytes(data)):
        _check(text)


def main() -> None:
    """Run this target under atheris (libFuzzer flags from the command line)."""
    fuzz_support.run(test_one_input)


if __name__ == "__main__":
    main()
