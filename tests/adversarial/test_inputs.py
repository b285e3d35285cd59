"""Adversarial chunk contents: empty and oversized data, broken checksums, wrong data types,
buffers changed after submission, out-of-range enums, extreme timestamps, and JSON chunks and
events with missing, extra or mistyped fields.

Expected behaviour throughout: a TypeError/ValueError that names the argument at the boundary, or
a counted, announced validation failure in the processor; never a crash, and never a rejected
chunk that poisons its sequence number for a later good copy.
"""
import asyncio
import gc
import json
import mmap
import os
import random
import string
import sys
import zlib
from array import array
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, strategies as st

from rs2fast._chunk import (checksum_algorithm, checksum_hex, compute_checksums, crc32c,
                            split_buffer, validate_batch)
from rs2fast._heap import PriorityHeap
from rs2fast.chunk_processor import ChunkProcessor, ChunkProcessorConfig
from rs2fast.errors import ChecksumMismatch, ValidationFailed
from rs2fast.events import (BufferUnderrun, ChunkDropped, MediaStreamEvent, QualityChanged,
                            StreamStarted, StreamStopped)
from rs2fast.priority_queue import MediaPriorityQueue
from rs2fast.streaming import MediaStreamingService
from rs2fast.types import (ChunkType, MediaChunk, MediaPriority, MediaStream, MediaType,
                           QualityLevel, StreamMetrics)
from tests.test_leaks import check_debug_counters

I, P, A, M = ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.AUDIO, ChunkType.METADATA


def processor(**config):
    config.setdefault("parallel_processing", 1)
    events = []
    return ChunkProcessor(ChunkProcessorConfig(**config), on_event=events.append), events


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# --- empty chunks ------------------------------------------------------------------------------

def test_an_empty_chunk_is_a_value_but_fails_validation_counted():
    empty = MediaChunk("s", 0, b"", P)
    assert len(empty) == 0 and bool(empty) and empty.data == b""
    assert MediaChunk.from_json(empty.to_json()) == empty
    proc, events = processor()
    with pytest.raises(ValidationFailed, match="Empty chunk data"):
        proc.process_single_chunk(empty)
    stats = proc.get_stats()
    assert stats.validation_failures == 1 and stats.chunks_dropped == 1 and len(events) == 1
    good = MediaChunk("s", 0, b"x", P)
    assert proc.process_single_chunk(good) == [good]      # seq 0 was not consumed by the bad one


def test_an_empty_chunk_passes_where_validation_is_off_and_in_the_queue():
    proc, _ = processor(enable_validation=False)
    empty = MediaChunk("s", 0, b"", P)
    assert proc.process_single_chunk(empty) == [empty]
    queue = MediaPriorityQueue(2)
    queue.try_enqueue(empty)
    assert queue.get_nowait() is empty
    assert split_buffer(b"", "s", 10) == [] and split_buffer(bytearray(), "s", 10) == []


# --- size caps ---------------------------------------------------------------------------------

@pytest.mark.parametrize("chunk_type, limit, text", [
    (A, 65_536, "Audio chunk too large"), (I, 1_048_576, "Video chunk too large"),
    (ChunkType.VIDEO_B_FRAME, 1_048_576, "Video chunk too large")])
def test_size_caps_are_inclusive_and_checked_before_the_checksum(chunk_type, limit, text):
    proc, events = processor()
    ok = MediaChunk("s", 0, bytes(limit), chunk_type).with_checksum("crc32c")
    assert proc.process_single_chunk(ok) == [ok]
    too_big = MediaChunk("s", 1, bytes(limit + 1), chunk_type, checksum="crc32c:00000000")
    with pytest.raises(ValidationFailed, match=text) as caught:
        proc.process_single_chunk(too_big)        # a wrong checksum too, but size is checked first
    assert not isinstance(caught.value, ChecksumMismatch)
    assert proc.get_stats().validation_failures == 1 and events[0].sequence_number == 1


def test_other_types_have_a_configurable_cap():
    big = MediaChunk("s", 0, bytes(3 << 20), M)
    proc, _ = processor()
    assert proc.process_single_chunk(big) == [big]               # RS2: no cap for metadata
    proc, _ = processor(other_size_limit=1 << 20)
    with pytest.raises(ValidationFailed, match="too large"):
        proc.process_single_chunk(big)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads RSS from /proc")
def test_a_chunk_far_above_every_cap_is_rejected_without_reading_its_bytes(tmp_path):
    # A 1 GiB zero-copy chunk over a sparse file: copying or hashing it would fault its pages in.
    size = 1 << 30
    path = tmp_path / "sparse.bin"
    with open(path, "wb") as f:
        f.truncate(size)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), size, prot=mmap.PROT_READ) as mapped:
        [huge] = split_buffer(mapped, "s", size, chunk_type=I)
        huge = huge.replace(checksum="0" * 64)
        before = rss_bytes()
        proc, events = processor(parallel_processing=4, parallel_min_bytes=0)
        with pytest.raises(ValidationFailed, match="Video chunk too large"):
            proc.process_single_chunk(huge)
        assert proc.process_batch([huge, huge.replace(chunk_type=A)]) == []
        assert validate_batch([huge] * 8) == bytes([3] * 8)
        grown = rss_bytes() - before
        assert grown < 32 << 20, f"RSS grew by {grown >> 20} MiB: the chunk was read"
        assert proc.get_stats().validation_failures == 3 and len(events) == 3
        del huge
        proc.close()


# --- checksums ---------------------------------------------------------------------------------

DATA = b"media payload " * 20
SHA = checksum_hex(DATA, "sha256")
CRC = checksum_hex(DATA, "crc32c")
BAD_CHECKSUMS = {
    "garbage": "not a checksum",
    "empty": "",
    "truncated sha256": SHA[:-1],
    "too long sha256": SHA + "0",
    "truncated crc32c": CRC[:-1],
    "upper-case sha256": SHA.upper(),
    "upper-case crc32c digits": "crc32c:" + CRC[7:].upper(),
    "upper-case crc32c prefix": "CRC32C:" + CRC[7:],
    "sha256 with a prefix": "sha256:" + SHA,
    "sha1 hex": "a" * 40,
    "md5 labelled": "md5:" + "0" * 32,
    "zlib crc32 labelled crc32": f"crc32:{zlib.crc32(DATA):08x}",
    "non-ascii": "é" * 64,
    "whitespace": " " + SHA[1:],
    "newline": SHA[:-1] + "\n",
    "nul": "\x00" * 64,
}
MISMATCHES = {
    "sha256 of other data": checksum_hex(b"other", "sha256"),
    "crc32c of other data": checksum_hex(b"other", "crc32c"),
    "zlib crc32 value labelled crc32c": f"crc32c:{zlib.crc32(DATA):08x}",
    "one bit off": "crc32c:%08x" % (int(CRC[7:], 16) ^ 1),
}


@pytest.mark.parametrize("name", sorted(BAD_CHECKSUMS))
def test_malformed_checksums_are_typed_counted_and_do_not_poison_the_seq(name):
    bad = MediaChunk("s", 0, DATA, P, checksum=BAD_CHECKSUMS[name])
    assert not bad.checksum_matches()
    with pytest.raises(ValueError):
        checksum_algorithm(bad.checksum)
    proc, events = processor()
    with pytest.raises(ChecksumMismatch):
        proc.process_single_chunk(bad)
    assert proc.get_stats().validation_failures == 1 and events[0].reason.startswith("validation")
    good = bad.replace(checksum=SHA)
    assert proc.process_single_chunk(good) == [good]


@pytest.mark.parametrize("name", sorted(MISMATCHES))
def test_checksums_of_other_data_are_a_mismatch(name):
    bad = MediaChunk("s", 0, DATA, P, checksum=MISMATCHES[name])
    assert not bad.checksum_matches()
    proc, _ = processor()
    with pytest.raises(ChecksumMismatch, match="Checksum mismatch"):
        proc.process_single_chunk(bad)
    assert validate_batch([bad]) == bytes([5])


def test_checksum_of_a_non_str_type_is_a_type_error():
    for bad in (b"0" * 64, 12345, ["crc32c:00000000"]):
        with pytest.raises(TypeError, match="checksum"):
            MediaChunk("s", 0, DATA, P, checksum=bad)


def test_verify_checksums_off_lets_malformed_strings_through():
    proc, _ = processor(verify_checksums=False)
    bad = MediaChunk("s", 0, DATA, P, checksum="garbage")
    assert proc.process_single_chunk(bad) == [bad]


# --- data of the wrong type ----------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["text", None, 5, 1.5, True, [1, 2], {"a": 1}, object(), iter(b"ab")],
                         ids=lambda v: type(v).__name__)
def test_data_of_the_wrong_type_is_a_type_error_naming_data(bad):
    with pytest.raises(TypeError, match="data"):
        MediaChunk("s", 0, bad, P)
    with pytest.raises(TypeError, match="data"):
        MediaChunk("s", 0, b"x", P).replace(data=bad)
    with pytest.raises(TypeError, match="data"):
        split_buffer(bad, "s", 4)
    with pytest.raises(TypeError, match="data"):
        crc32c(bad)


def test_non_contiguous_views_are_copied_in_c_order_by_the_constructor():
    raw = bytes(range(32))
    strided = memoryview(raw)[::3]
    assert MediaChunk("s", 0, strided, P).data == raw[::3]
    grid = np.arange(24, dtype=np.uint8).reshape(4, 6)[:, ::2]
    assert MediaChunk("s", 0, grid, P).data == grid.tobytes()
    floats = np.array([1.0, -2.5])
    assert MediaChunk("s", 0, floats, P).data == floats.tobytes()      # raw bytes, any itemsize
    assert MediaChunk("s", 0, array("i", [1, 2]), P).data == array("i", [1, 2]).tobytes()


def test_non_contiguous_views_are_a_value_error_where_no_copy_is_made():
    strided = memoryview(bytes(range(32)))[::2]
    for call in (lambda: split_buffer(strided, "s", 4), lambda: crc32c(strided),
                 lambda: checksum_hex(strided, "sha256"), lambda: checksum_hex(strided, "crc32c")):
        with pytest.raises(ValueError, match="contiguous"):
            call()


@pytest.mark.parametrize("bad", ["chunk", None, b"bytes", 5, {"stream_id": "s"}],
                         ids=lambda v: type(v).__name__)
def test_non_chunks_are_a_type_error_and_nothing_is_counted(bad):
    proc, events = processor()
    good = MediaChunk("s", 0, b"x", P)
    for call in (lambda: proc.process_single_chunk(bad), lambda: proc.process_batch([good, bad]),
                 lambda: proc.validate_chunk(bad), lambda: proc.handle_reordering(bad)):
        with pytest.raises(TypeError):
            call()
    assert proc.get_stats().chunks_received == 0 and events == []
    queue = MediaPriorityQueue(4)
    for call in (lambda: queue.enqueue(bad), lambda: queue.try_enqueue(bad)):
        with pytest.raises(TypeError):
            call()
    assert len(queue) == 0 and queue.get_stats().enqueued == 0
    heap = PriorityHeap(4)
    with pytest.raises(TypeError):
        heap.push_chunk(bad)
    with pytest.raises(TypeError):
        compute_checksums([good, bad])
    with pytest.raises(TypeError):
        validate_batch([good, bad])
    assert len(heap) == 0


# --- a mutable buffer changed after submission ----------------------------------------------------

def test_the_constructor_copies_mutable_buffers():
    source = bytearray(b"original data")
    chunk = MediaChunk("s", 0, source, P).with_checksum("crc32c")
    view_chunk = MediaChunk("s", 1, memoryview(source), P)
    source[:] = b"changed!!!!!!"
    source.extend(b" and grown")
    assert chunk.data == b"original data" and chunk.checksum_matches()
    assert view_chunk.data == b"original data"


def test_split_views_pin_the_source_and_a_changed_byte_is_caught_by_the_checksum():
    source = bytearray(b"abcdefgh" * 8)
    # A read-only view is split without a copy (a mutable buffer itself would be copied).
    chunks = split_buffer(memoryview(source).toreadonly(), "s", 16, chunk_type=M, checksum="crc32c")
    with pytest.raises(BufferError):
        source.extend(b"more")                         # cannot be resized under the views
    source[20] ^= 0xFF                                  # changed after submission, in place
    proc, events = processor()
    out = proc.process_batch(chunks, return_exceptions=True)
    assert [type(x).__name__ for x in out] == ["MediaChunk", "ChecksumMismatch"]
    assert proc.get_stats().validation_failures == 1 and events[0].sequence_number == 1
    assert proc.get_stream_stats("s").buffered == 2          # 2 and 3 wait for a good copy of 1
    del chunks, out, proc
    gc.collect()                                        # returned errors hold frames in cycles
    source.extend(b"more")                              # released once the views are gone
    assert len(source) == 68


def test_a_numpy_source_changed_in_place_is_caught_and_a_closed_mmap_is_refused(tmp_path):
    array_ = np.zeros(64, dtype=np.uint8)
    read_only = array_.view()
    read_only.flags.writeable = False                   # split without a copy
    chunks = split_buffer(read_only, "s", 32, chunk_type=M, checksum="crc32c")
    array_[40] = 7
    assert [c.checksum_matches() for c in chunks] == [True, False]
    path = tmp_path / "m.bin"
    path.write_bytes(b"q" * 4096)
    with open(path, "r+b") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        views = split_buffer(mapped, "s", 1024)
        with pytest.raises(BufferError):
            mapped.close()                              # the views keep the mapping alive
        assert bytes(views[3].data) == b"q" * 1024
        del views
        mapped.close()


# --- out-of-range enum values --------------------------------------------------------------------

@pytest.mark.parametrize("value", [6, -1, 99, 2**70, -(2**70)])
def test_out_of_range_chunk_types_are_value_errors(value):
    with pytest.raises(ValueError, match="chunk_type"):
        MediaChunk("s", 0, b"x", value)
    with pytest.raises(ValueError, match="chunk_type"):
        MediaChunk("s", 0, b"x", P).replace(chunk_type=value)
    with pytest.raises(ValueError, match="chunk_type"):
        split_buffer(b"abc", "s", 1, chunk_type=value)


@pytest.mark.parametrize("value", [True, 1.0, "VideoIFrame", b"\x00"], ids=repr)
def test_mistyped_chunk_types_are_type_errors(value):
    with pytest.raises(TypeError, match="chunk_type"):
        MediaChunk("s", 0, b"x", value)


@pytest.mark.parametrize("value", [0, 4, -1, 2**70])
def test_out_of_range_priorities_are_value_errors(value):
    with pytest.raises(ValueError, match="priority"):
        MediaChunk("s", 0, b"x", P, value)
    with pytest.raises(ValueError, match="priority"):
        PriorityHeap(2).push(object(), value, 0)


def test_out_of_range_enums_in_streams_and_events():
    with pytest.raises(ValueError, match="quality"):
        MediaStream("s", 1, MediaType.VIDEO, 9, 10)
    with pytest.raises(ValueError, match="content_type"):
        MediaStream("s", 1, -1, QualityLevel.LOW, 10)
    with pytest.raises(ValueError, match="new_quality"):
        QualityChanged("s", 1, QualityLevel.LOW, 4)
    with pytest.raises(ValueError):
        ChunkType(6)
    with pytest.raises(ValueError):
        ChunkType.from_rs2_name("VideoXFrame")


# --- timestamps ----------------------------------------------------------------------------------

@pytest.mark.parametrize("ns", [-1, -(2**63), 2**63 - 1, 0, 1])
def test_extreme_timestamps_are_kept_exactly(ns):
    chunk = MediaChunk("s", 0, b"x", P, timestamp_ns=ns)
    assert chunk.timestamp_ns == ns
    assert chunk.timestamp == timedelta(microseconds=ns // 1000)
    import pickle
    assert pickle.loads(pickle.dumps(chunk)) == chunk
    proc, _ = processor()
    assert proc.process_single_chunk(chunk) == [chunk]       # timestamps never affect ordering


def test_negative_timestamps_cannot_be_written_as_rs2_json():
    chunk = MediaChunk("s", 0, b"x", P, timestamp=timedelta(days=-1))
    for call in (chunk.to_dict, chunk.to_json):
        with pytest.raises(ValueError, match="negative"):
            call()


@pytest.mark.parametrize("kwargs", [{"timestamp_ns": 2**63}, {"timestamp_ns": -(2**63) - 1},
                                    {"timestamp": timedelta.max}, {"timestamp": timedelta.min},
                                    {"timestamp": timedelta(days=106_752)}])
def test_timestamps_beyond_int64_nanoseconds_are_value_errors(kwargs):
    with pytest.raises(ValueError, match="timestamp"):
        MediaChunk("s", 0, b"x", P, **kwargs)


@pytest.mark.parametrize("kwargs, error", [({"timestamp": 5}, TypeError),
                                           ({"timestamp": 1.5}, TypeError),
                                           ({"timestamp_ns": 1.5}, TypeError),
                                           ({"timestamp_ns": "5"}, TypeError),
                                           ({"timestamp": timedelta(1), "timestamp_ns": 5}, TypeError)])
def test_mistyped_timestamps_are_type_errors(kwargs, error):
    with pytest.raises(error, match="timestamp"):
        MediaChunk("s", 0, b"x", P, **kwargs)


# --- JSON chunks ---------------------------------------------------------------------------------

def sample_chunk(size=8):
    return MediaChunk("cam-1", 42, bytes(i % 251 for i in range(size)), A, MediaPriority.HIGH,
                      timedelta(seconds=3, microseconds=5), True, None).with_checksum("crc32c")


def from_both(mapping):
    """from_dict(mapping) and from_json of its text (short and long forms agree)."""
    return MediaChunk.from_dict(mapping), MediaChunk.from_json(json.dumps(mapping))


@pytest.mark.parametrize("field", ["stream_id", "sequence_number", "data", "chunk_type", "priority",
                                   "timestamp", "is_final", "checksum"])
@pytest.mark.parametrize("size", [8, 600])          # 600 bytes takes the C fast path of from_json
def test_json_chunk_missing_a_field_is_a_value_error_naming_it(field, size):
    mapping = sample_chunk(size).to_dict()
    del mapping[field]
    for call in (lambda: MediaChunk.from_dict(mapping),
                 lambda: MediaChunk.from_json(json.dumps(mapping)),
                 lambda: MediaChunk.from_json(json.dumps(mapping).encode())):
        with pytest.raises(ValueError, match=field):
            call()


@pytest.mark.parametrize("size", [8, 600])
def test_json_chunk_extra_fields_are_ignored(size):
    original = sample_chunk(size)
    mapping = {"zzz": [1, {"data": [999]}], **original.to_dict(), "extra": None, "Data": "x"}
    assert from_both(mapping) == (original, original)


MISTYPED = [
    ("stream_id", 5, TypeError), ("stream_id", None, TypeError),
    ("sequence_number", "42", TypeError), ("sequence_number", 42.0, TypeError),
    ("sequence_number", True, TypeError), ("sequence_number", -1, ValueError),
    ("sequence_number", 2**64, ValueError),
    ("data", "AAEC", TypeError), ("data", None, TypeError), ("data", {"0": 1}, TypeError),
    ("data", [0, 256], ValueError), ("data", [-1], ValueError), ("data", [1.0], TypeError),
    ("data", [True], TypeError), ("data", ["1"], TypeError), ("data", [[1]], TypeError),
    ("chunk_type", 3, TypeError), ("chunk_type", "audio", ValueError), ("chunk_type", None, TypeError),
    ("priority", 3, TypeError), ("priority", "Urgent", ValueError),
    ("timestamp", 5, TypeError), ("timestamp", "3s", TypeError),
    ("timestamp", {"secs": 1}, ValueError), ("timestamp", {"nanos": 1}, ValueError),
    ("timestamp", {"secs": "1", "nanos": 0}, TypeError),
    ("timestamp", {"secs": 1, "nanos": 1.5}, TypeError),
    ("timestamp", {"secs": 1, "nanos": 10**9}, ValueError),
    ("timestamp", {"secs": -1, "nanos": 0}, ValueError),
    ("timestamp", {"secs": 2**64, "nanos": 0}, ValueError),
    ("is_final", 0, TypeError), ("is_final", "false", TypeError), ("is_final", None, TypeError),
    ("checksum", 5, TypeError), ("checksum", ["x"], TypeError),
]


@pytest.mark.parametrize("field, value, error", MISTYPED, ids=lambda v: repr(v)[:20])
@pytest.mark.parametrize("size", [8, 600])
def test_json_chunk_mistyped_fields_are_typed_errors_naming_the_field(field, value, error, size):
    mapping = sample_chunk(size).to_dict()
    mapping[field] = value
    name = field if field != "timestamp" else "timestamp"
    with pytest.raises(error, match=name):
        MediaChunk.from_dict(mapping)
    with pytest.raises(error, match=name):
        MediaChunk.from_json(json.dumps(mapping))


@pytest.mark.parametrize("text", ["", "{", "[]", "null", "42", '"chunk"', "{}", '{"data":[1,2]',
                                  "{'stream_id': 's'}", "\ufeff{}"], ids=repr)
def test_json_chunk_texts_that_are_not_chunks_are_value_or_type_errors(text):
    for form in (text, text.encode("utf-8")):
        with pytest.raises((ValueError, TypeError)):
            MediaChunk.from_json(form)
    with pytest.raises(TypeError):
        MediaChunk.from_json(5)


def _mutations(text, rng):
    alphabet = string.digits + '[]{},:" -.eE\\' + "tfn"
    cut = rng.randrange(len(text) + 1)
    span = rng.randrange(1, 8)
    choice = rng.randrange(5)
    if choice == 0:
        return text[:cut] + text[cut + span:]                       # delete
    if choice == 1:
        return text[:cut] + rng.choice(alphabet) + text[cut:]       # insert
    if choice == 2:
        return text[:cut] + rng.choice(alphabet) + text[cut + 1:]   # replace
    if choice == 3:
        return text[:cut] + text[cut:cut + span] + text[cut:]       # duplicate
    return text[:cut]                                                # truncate


def _outcome(call):
    try:
        return ("ok", call())
    except (ValueError, TypeError) as error:
        return ("error", type(error))


@given(seed=st.integers(0, 2**32 - 1), size=st.sampled_from([0, 3, 300, 700]),
       as_bytes=st.booleans(), rounds=st.integers(1, 4))
def test_json_chunk_fast_path_agrees_with_json_loads_on_mutated_text(seed, size, as_bytes, rounds):
    # from_json parses long byte arrays in C; whatever the text, its answer must be exactly what
    # json.loads + from_dict gives (same chunk, or an error of the same type), never a crash.
    rng = random.Random(seed)
    text = sample_chunk(size).to_json()
    if rng.random() < 0.5:
        text = json.dumps(json.loads(text), indent=rng.choice([None, 1]))
    for _ in range(rounds):
        text = _mutations(text, rng)
    form = text.encode() if as_bytes else text

    def slow():
        return MediaChunk.from_dict(json.loads(form))

    expected = _outcome(slow)
    got = _outcome(lambda: MediaChunk.from_json(form))
    if expected[0] == "ok":
        assert got == expected
    else:
        assert got[0] == "error"
        assert issubclass(got[1], ValueError) == issubclass(expected[1], ValueError), (got, expected)


def test_json_chunk_with_a_repeated_data_key_matches_json_loads():
    original = sample_chunk(600)
    text = original.to_json()
    doubled = text[:-1] + ',"data":[9,9,9]}'
    assert MediaChunk.from_json(doubled).data == b"\x09\x09\x09"       # the last key wins, as json
    assert MediaChunk.from_json(doubled.encode()).data == b"\x09\x09\x09"


# --- JSON events ---------------------------------------------------------------------------------

STAMP = datetime(2025, 1, 2, 3, 4, 5, 123000, tzinfo=timezone.utc)
EVENTS = [StreamStarted("s", 1, QualityLevel.HIGH, timestamp=STAMP),
          StreamStopped("s", 1, 5, 100, timestamp=STAMP),
          QualityChanged("s", 1, QualityLevel.HIGH, QualityLevel.LOW, timestamp=STAMP),
          BufferUnderrun("s", 1, 0.5, timestamp=STAMP),
          ChunkDropped("s", 1, 7, "why", timestamp=STAMP)]
EVENT_FIELDS = [(event, field) for event in EVENTS for field in next(iter(event.to_dict().values()))
                if field != "duration"]   # rs2fast's addition to RS2's StreamStopped is optional in JSON


@pytest.mark.parametrize("event, field", EVENT_FIELDS, ids=lambda v: getattr(v, "_TAG", v))
def test_json_event_missing_a_field_is_a_value_error_naming_it(event, field):
    [(tag, body)] = event.to_dict().items()
    del body[field]
    with pytest.raises(ValueError, match=field):
        MediaStreamEvent.from_dict({tag: body})
    with pytest.raises(ValueError, match=field):
        MediaStreamEvent.from_json(json.dumps({tag: body}))


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e._TAG)
def test_json_event_extra_fields_are_ignored(event):
    [(tag, body)] = event.to_dict().items()
    assert MediaStreamEvent.from_dict({tag: {**body, "extra": [1], "user": "x"}}) == event
    assert type(event).from_json(json.dumps({tag: {"zz": None, **body}})) == event


@pytest.mark.parametrize("event, field", EVENT_FIELDS, ids=lambda v: getattr(v, "_TAG", v))
def test_json_event_mistyped_fields_are_typed_errors(event, field):
    [(tag, body)] = event.to_dict().items()
    accepted = 0
    for value in ("x", -1, 1.5, None, True, 2**64, [1], {"a": 1}, float("nan")):
        try:
            parsed = MediaStreamEvent.from_dict({tag: {**body, field: value}})
        except (TypeError, ValueError) as error:
            assert field in str(error)
            continue
        accepted += 1
        assert field in ("stream_id", "reason", "buffer_level")   # str fields take any str
        assert getattr(parsed, field) == value or field == "buffer_level"
    assert accepted <= 3


@pytest.mark.parametrize("text", ['{}', '[]', '{"Nope":{}}', '{"BufferUnderrun":[]}',
                                  '{"StreamStarted":{},"StreamStopped":{}}', "", "{",
                                  '{"BufferUnderrun":{"stream_id":"s","user_id":1,"buffer_level":NaN,'
                                  '"timestamp":"2025-01-01T00:00:00Z"}}',
                                  '{"BufferUnderrun":{"stream_id":"s","user_id":1,"buffer_level":1,'
                                  '"timestamp":"2025-01-01T00:00:00"}}'], ids=repr)
def test_json_event_texts_that_are_not_events_are_value_or_type_errors(text):
    with pytest.raises((ValueError, TypeError)):
        MediaStreamEvent.from_json(text)


def test_json_event_of_the_wrong_variant_is_a_value_error():
    with pytest.raises(ValueError, match="StreamStarted"):
        StreamStarted.from_json(EVENTS[1].to_json())


def test_json_stream_and_metrics_with_missing_and_mistyped_fields():
    stream = MediaStream("s", 1, MediaType.VIDEO, QualityLevel.LOW, 10, STAMP)
    mapping = stream.to_dict()
    assert MediaStream.from_dict({**mapping, "extra": 1}) == stream
    for field in mapping:
        with pytest.raises(ValueError, match=field):
            MediaStream.from_dict({k: v for k, v in mapping.items() if k != field})
    for field, value in (("chunk_size", 0), ("chunk_size", "10"), ("quality", "Best"),
                         ("user_id", -1), ("id", ""), ("metadata", {"a": 1.5}), ("created_at", 5)):
        with pytest.raises((TypeError, ValueError), match=field):
            MediaStream.from_dict({**mapping, field: value})
    metrics = StreamMetrics("s", last_updated=STAMP).to_dict()
    with pytest.raises(ValueError, match="bytes_processed"):
        StreamMetrics.from_dict({k: v for k, v in metrics.items() if k != "bytes_processed"})
    with pytest.raises(TypeError, match="chunks_processed"):
        StreamMetrics.from_dict({**metrics, "chunks_processed": "1"})


# --- arguments refused at the call that takes them -------------------------------------------------

@pytest.mark.parametrize("kwargs, error, name", [
    ({"enable_reordering": "no"}, TypeError, "enable_reordering"),
    ({"enable_validation": 0}, TypeError, "enable_validation"),
    ({"verify_checksums": "no"}, TypeError, "verify_checksums"),
    ({"resync_after": "4"}, TypeError, "resync_after"),
    ({"resync_after": 2.5}, TypeError, "resync_after"),
    ({"sequence_timeout": float("nan")}, ValueError, "sequence_timeout"),
    ({"sequence_timeout": 1e12}, ValueError, "sequence_timeout"),
    ({"sequence_timeout": float("inf")}, ValueError, "sequence_timeout"),
    ({"sequence_timeout": timedelta(days=-1)}, ValueError, "sequence_timeout"),
    ({"sequence_timeout": "5"}, TypeError, "sequence_timeout"),
    ({"audio_size_limit": 65536.0}, TypeError, "audio_size_limit"),
    ({"video_size_limit": 1.5e6}, TypeError, "video_size_limit"),
    ({"other_size_limit": 10.0}, TypeError, "other_size_limit"),
    ({"parallel_min_bytes": 0.5}, TypeError, "parallel_min_bytes"),
    ({"batch_size": True}, TypeError, "batch_size"),
])
def test_processor_config_refuses_bad_fields_naming_them(kwargs, error, name):
    with pytest.raises(error, match=name):
        ChunkProcessorConfig(**kwargs)


def test_processor_config_takes_numpy_integers_as_ints():
    config = ChunkProcessorConfig(max_buffer_size=np.int64(8), resync_after=np.uint8(3),
                                  other_size_limit=np.int32(100), sequence_timeout=np.int16(2))
    assert type(config.max_buffer_size) is int and config.max_buffer_size == 8
    assert config.resync_after == 3 and config.other_size_limit == 100
    assert config.sequence_timeout == timedelta(seconds=2)


@pytest.mark.parametrize("kwargs, error, name", [
    ({"batch": 1.5}, TypeError, "batch"),
    ({"batch": "8"}, TypeError, "batch"),
    ({"batch": 0}, ValueError, "batch"),
    ({"codec": "h264"}, TypeError, "codec"),
    ({"underrun_after": "0.1"}, TypeError, "underrun_after"),
    ({"underrun_after": float("nan")}, ValueError, "underrun_after"),
    ({"underrun_after": -1}, ValueError, "underrun_after"),
    ({"adaptive": "yes"}, TypeError, "adaptive"),
    ({"buffer_capacity": 2.0}, TypeError, "buffer_capacity"),
])
def test_the_service_refuses_bad_arguments_naming_them(kwargs, error, name):
    with pytest.raises(error, match=name):
        MediaStreamingService(**kwargs)


def test_the_service_takes_numpy_integers_for_counts():
    with MediaStreamingService(np.int64(8), batch=np.int32(2)) as svc:
        assert svc.buffer_capacity == 8 and svc.batch == 2
        got = list(svc.start_live_stream(stream("n"), [b"x" * 40], max_chunks=np.uint16(3)))
    assert [c.sequence_number for c in got] == [0, 1, 2] and got[-1].is_final


@pytest.mark.parametrize("bad, error", [("5", TypeError), (2.0, TypeError), (-1, ValueError),
                                        (True, TypeError)])
def test_max_chunks_errors_name_the_argument(bad, error):
    with MediaStreamingService(8) as svc:
        with pytest.raises(error, match="max_chunks"):
            svc.start_live_stream(stream("m"), [b"x"], max_chunks=bad)


@pytest.mark.parametrize("bad", ["x", None, 5, {"id": "s"}])
def test_a_file_stream_of_something_else_than_a_media_stream_is_a_type_error(tmp_path, bad):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    with MediaStreamingService(8) as svc:
        with pytest.raises(TypeError, match="stream"):
            svc.start_file_stream(path, bad)
        with pytest.raises(TypeError, match="stream"):
            svc.start_live_stream(bad)


def test_queue_counts_take_numpy_integers_and_async_timeouts_are_checked_first():
    queue = MediaPriorityQueue(8)
    for seq in range(3):
        queue.enqueue(MediaChunk("q", seq, b"x", P))
    assert [c.sequence_number for c in queue.get_batch(np.int64(2))] == [0, 1]

    async def main():
        for bad, error in (("soon", TypeError), (float("nan"), ValueError), (-1, ValueError)):
            with pytest.raises(error, match="timeout"):
                await queue.aget(timeout=bad)            # a chunk is there: still refused
            with pytest.raises(error, match="timeout"):
                await queue.aenqueue(MediaChunk("q", 9, b"x", P), timeout=bad)

    asyncio.run(main())
    assert len(queue) == 1


def test_metrics_and_monitoring_intervals_are_checked_at_the_call():
    proc = ChunkProcessor()
    with MediaStreamingService(8) as svc:
        for bad, error in (("1", TypeError), (0, ValueError), (float("nan"), ValueError)):
            with pytest.raises(error, match="interval"):
                svc.get_metrics_stream(bad)
            with pytest.raises(error, match="interval"):
                proc.monitoring_stream(bad)


def stream(stream_id, chunk_size=10):
    return MediaStream(stream_id, 7, MediaType.VIDEO, QualityLevel.HIGH, chunk_size)


def test_zz_debug_build_leaves_no_live_objects():
    check_debug_counters()


@pytest.mark.parametrize("timeout, error", [("soon", TypeError), (True, TypeError),
                                            (float("nan"), ValueError), (-1, ValueError),
                                            (-0.5, ValueError)])
def test_bad_queue_timeouts_are_refused_on_the_fast_paths_too(timeout, error):
    from rs2fast import ChunkType, MediaChunk, MediaPriorityQueue
    queue = MediaPriorityQueue(4)
    chunk = MediaChunk("s", 0, b"x", ChunkType.AUDIO)
    with pytest.raises(error, match="timeout"):
        queue.enqueue(chunk, timeout)       # there is room: no wait would happen
    assert len(queue) == 0
    queue.enqueue(chunk)
    with pytest.raises(error, match="timeout"):
        queue.get(timeout)                  # a chunk is there: no wait would happen
    assert len(queue) == 1                  # nothing was taken
    assert queue.get(timeout=10**400) is chunk
