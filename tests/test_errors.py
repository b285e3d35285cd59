"""Tests for rs2fast.errors: one hierarchy, RS2's display texts, location attributes, pickling."""
from __future__ import annotations

import copy
import inspect
import pickle
import queue

import pytest
from hypothesis import given
from hypothesis import strategies as st

import rs2fast
from rs2fast import errors
from rs2fast.errors import (
    BufferOverflow,
    ChecksumMismatch,
    ChunkProcessingError,
    CodecError,
    CodecUnavailable,
    DecodingFailed,
    DuplicateChunk,
    EncodingFailed,
    InvalidData,
    LateChunk,
    MediaFormatError,
    QueueClosed,
    QueueEmpty,
    QueueError,
    QueueFull,
    Rs2fastError,
    SequenceGap,
    StreamError,
    StreamTruncated,
    UnsupportedFormat,
    ValidationFailed,
)

ALL_ERRORS = [obj for _, obj in inspect.getmembers(errors, inspect.isclass)
              if issubclass(obj, BaseException) and obj.__module__ == errors.__name__]

# One instance of every error class, as the library would raise it, with its expected message start.
SAMPLES = [
    (Rs2fastError("Something broke"), "Something broke"),
    (CodecError("Resource exhausted"), "Resource exhausted"),
    (UnsupportedFormat("video in an audio codec"), "Unsupported format: video in an audio codec"),
    (EncodingFailed("bad frame"), "Encoding failed: bad frame"),
    (DecodingFailed("bad packet"), "Decoding failed: bad packet"),
    (InvalidData("Empty video data"), "Invalid data: Empty video data"),
    (InvalidData("Checksum mismatch"), "Invalid data: Checksum mismatch"),
    (MediaFormatError("not an MP4 file"), "not an MP4 file"),
    (CodecUnavailable("install rs2fast[av]"), "install rs2fast[av]"),
    (ChunkProcessingError("Processing timeout"), "Processing timeout"),
    (SequenceGap(1, 5), "Sequence gap: expected 1, received 5"),
    (DuplicateChunk(1), "Duplicate chunk: 1"),
    (LateChunk(3, 7), "Late chunk: 3"),
    (BufferOverflow(), "Buffer overflow"),
    (BufferOverflow("32 chunks buffered"), "Buffer overflow: 32 chunks buffered"),
    (ValidationFailed("Empty stream ID"), "Validation failed: Empty stream ID"),
    (ValidationFailed("Audio chunk too large"), "Validation failed: Audio chunk too large"),
    (ChecksumMismatch(), "Validation failed: Checksum mismatch"),
    (QueueError("Queue channel disconnected"), "Queue channel disconnected"),
    (QueueFull(), "Queue is full"),
    (QueueEmpty(), "Queue is empty"),
    (QueueClosed(), "Queue is closed"),
    (StreamError("no source"), "no source"),
    (StreamTruncated("file shrank from 100 to 50 bytes"), "file shrank from 100 to 50 bytes"),
]


def test_samples_cover_every_error_class():
    assert {type(error) for error, _ in SAMPLES} == set(ALL_ERRORS)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_is_an_rs2fast_error(cls):
    assert issubclass(cls, Rs2fastError)
    assert issubclass(cls, Exception)


@pytest.mark.parametrize("cls, family", [
    (UnsupportedFormat, CodecError), (EncodingFailed, CodecError), (DecodingFailed, CodecError),
    (InvalidData, CodecError), (MediaFormatError, CodecError), (CodecUnavailable, CodecError),
    (SequenceGap, ChunkProcessingError), (DuplicateChunk, ChunkProcessingError),
    (LateChunk, ChunkProcessingError), (BufferOverflow, ChunkProcessingError),
    (ValidationFailed, ChunkProcessingError), (ChecksumMismatch, ValidationFailed),
    (QueueFull, QueueError), (QueueEmpty, QueueError), (QueueClosed, QueueError), (StreamTruncated, StreamError),
])
def test_error_families(cls, family):
    assert issubclass(cls, family)


def test_families_are_disjoint():
    families = [CodecError, ChunkProcessingError, QueueError, StreamError]
    for a in families:
        for b in families:
            assert (a is b) == issubclass(a, b)


@pytest.mark.parametrize("error, text", SAMPLES, ids=lambda x: type(x).__name__ if isinstance(x, Exception) else "")
def test_messages_start_with_rs2_display_text(error, text):
    assert str(error).startswith(text)
    assert error.text.startswith(text)
    assert error.stream_id is None
    if not isinstance(error, (SequenceGap, DuplicateChunk, LateChunk)):
        assert error.sequence_number is None
        assert str(error) == text


def test_exact_rs2_texts_without_location():
    assert str(SequenceGap(1, 4)) == "Sequence gap: expected 1, received 4 [sequence 4]"
    assert SequenceGap(1, 4).text == "Sequence gap: expected 1, received 4"
    assert DuplicateChunk(1).text == "Duplicate chunk: 1"
    assert str(BufferOverflow()) == "Buffer overflow"
    assert str(QueueFull()) == "Queue is full"
    assert str(QueueClosed()) == "Queue is closed"


def test_location_attributes_and_message_suffix():
    error = ValidationFailed("Empty chunk data", stream_id="cam-1", sequence_number=7)
    assert error.stream_id == "cam-1"
    assert error.sequence_number == 7
    assert error.reason == "Empty chunk data"
    assert str(error) == "Validation failed: Empty chunk data [stream 'cam-1', sequence 7]"
    assert str(QueueFull(stream_id="s")) == "Queue is full [stream 's']"
    assert str(InvalidData("x", sequence_number=0)) == "Invalid data: x [sequence 0]"


def test_variant_specific_attributes():
    gap = SequenceGap(1, 5, stream_id="s")
    assert (gap.expected, gap.received, gap.sequence_number, gap.stream_id) == (1, 5, 5, "s")
    assert SequenceGap(1, 5, sequence_number=9).sequence_number == 9
    assert DuplicateChunk(4, stream_id="s").sequence_number == 4
    late = LateChunk(3, 7)
    assert (late.sequence_number, late.watermark) == (3, 7)
    assert "watermark 7" in str(late)
    assert BufferOverflow("full").detail == "full"
    assert UnsupportedFormat("x").detail == "x"
    assert EncodingFailed("x").detail == "x"
    assert DecodingFailed("x").detail == "x"
    assert InvalidData("x").detail == "x"
    assert ChecksumMismatch().reason == "Checksum mismatch"
    assert ChecksumMismatch("bad checksum string").text == "Validation failed: bad checksum string"


def test_errors_are_raisable_and_catchable_by_family():
    with pytest.raises(ChunkProcessingError) as caught:
        raise SequenceGap(0, 9, stream_id="s")
    assert caught.value.received == 9
    with pytest.raises(Rs2fastError):
        raise QueueClosed()
    with pytest.raises(CodecError, match="Invalid data: Empty video data"):
        raise InvalidData("Empty video data")


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_error_pickles(protocol):
    for error, _ in SAMPLES:
        clone = pickle.loads(pickle.dumps(error, protocol))
        assert type(clone) is type(error)
        assert str(clone) == str(error)
        assert clone.args == error.args
        assert vars(clone) == vars(error)


def test_copy_keeps_attributes():
    error = LateChunk(3, 7, stream_id="s")
    for clone in (copy.copy(error), copy.deepcopy(error)):
        assert (clone.sequence_number, clone.watermark, clone.stream_id) == (3, 7, "s")
        assert str(clone) == str(error)


@given(stream_id=st.one_of(st.none(), st.text(max_size=30)),
       sequence=st.one_of(st.none(), st.integers(0, 2**64 - 1)),
       detail=st.text(max_size=30))
def test_pickling_round_trips_any_location(stream_id, sequence, detail):
    for error in (ValidationFailed(detail, stream_id=stream_id, sequence_number=sequence),
                  InvalidData(detail, stream_id=stream_id, sequence_number=sequence),
                  QueueFull(stream_id=stream_id, sequence_number=sequence),
                  StreamTruncated(detail, stream_id=stream_id, sequence_number=sequence)):
        clone = pickle.loads(pickle.dumps(error))
        assert (clone.stream_id, clone.sequence_number) == (stream_id, sequence)
        assert str(clone) == str(error)
        assert str(error).startswith(error.text)


def test_package_exports_the_main_errors():
    for name in ("Rs2fastError", "CodecError", "ChunkProcessingError", "SequenceGap", "DuplicateChunk",
                 "LateChunk", "BufferOverflow", "ValidationFailed", "ChecksumMismatch", "QueueError",
                 "QueueFull", "QueueClosed", "StreamError", "StreamTruncated", "MediaFormatError"):
        assert getattr(rs2fast, name) is getattr(errors, name)


# --- builtin bases ---------------------------------------------------------------------------------

BUILTIN_BASES = {
    ValidationFailed: (ValueError,), ChecksumMismatch: (ValueError,), InvalidData: (ValueError,),
    UnsupportedFormat: (ValueError,), MediaFormatError: (ValueError,),
    QueueEmpty: (queue.Empty, TimeoutError), QueueFull: (queue.Full, TimeoutError),
}


@pytest.mark.parametrize("error, _", SAMPLES, ids=lambda x: type(x).__name__ if isinstance(x, Exception) else "")
def test_builtin_bases_are_caught_by_ordinary_except_clauses(error, _):
    bases = BUILTIN_BASES.get(type(error), ())
    for base in (ValueError, queue.Empty, queue.Full, TimeoutError):
        caught = False
        try:
            raise error
        except base:
            caught = True
        except Rs2fastError:
            pass
        assert caught == (base in bases), (type(error).__name__, base.__name__)


@pytest.mark.parametrize("cls", sorted(BUILTIN_BASES, key=lambda cls: cls.__name__), ids=lambda c: c.__name__)
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_errors_with_builtin_bases_pickle(cls, protocol):
    error = next(sample for sample, _ in SAMPLES if type(sample) is cls)
    error.stream_id = "cam-1"
    copy = pickle.loads(pickle.dumps(error, protocol))
    assert type(copy) is cls and str(copy) == str(error) and copy.stream_id == "cam-1"
    assert all(isinstance(copy, base) for base in BUILTIN_BASES[cls])


def test_builtin_bases_are_documented():
    for cls, bases in BUILTIN_BASES.items():
        for base in bases:
            assert base.__name__ in (cls.__doc__ or ""), (cls.__name__, base.__name__)


def test_queue_timeouts_from_a_real_queue_are_timeout_errors():
    from rs2fast.priority_queue import MediaPriorityQueue

    priority_queue = MediaPriorityQueue(1)
    with pytest.raises(TimeoutError):
        priority_queue.get(timeout=0.01)
    with pytest.raises(queue.Empty):
        priority_queue.get_nowait()
