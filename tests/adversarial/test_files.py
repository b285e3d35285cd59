"""Adversarial files and stream lifecycles in the MediaStreamingService: files that are missing,
empty, truncated, replaced or deleted while being read; paths of the wrong type; a stream id
started again; a chunk size over its type's cap; a MediaStream changed while it streams.

Expected: a missing file raises FileNotFoundError before anything starts; truncation is reported
as StreamTruncated after a byte-exact prefix; a replaced or deleted file is streamed to its end as
it was opened; every started stream is stopped exactly once; nothing accepted is lost silently.
The truncation cases run in a child process, so a crash (e.g. SIGBUS from a truncated mmap) shows
up as a failed test instead of killing the test run.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rs2fast.chunk_processor import ChunkProcessorConfig
from rs2fast.errors import StreamTruncated
from rs2fast.events import ChunkDropped
from rs2fast.streaming import MediaStreamingService
from rs2fast.types import MediaStream, MediaType, QualityLevel
from tests.test_leaks import check_debug_counters

REPO = Path(__file__).resolve().parents[2]
CHUNK = 1024


def media(stream_id="s", chunk_size=CHUNK, content=MediaType.VIDEO, **metadata):
    return MediaStream(stream_id, 7, content, QualityLevel.HIGH, chunk_size,
                       metadata={k: str(v) for k, v in metadata.items()})


def pattern(size, salt=0):
    period = bytes((i * 7 + salt) % 251 for i in range(251))   # 251 is prime: chunks all differ
    return (period * (size // 251 + 1))[:size]


def kinds(events, stream_id="s"):
    return [type(e).__name__ for e in events if e.stream_id == stream_id]


# --- missing, wrong, empty ---------------------------------------------------------------------

def test_a_missing_file_raises_before_anything_starts(tmp_path):
    events = []
    with MediaStreamingService(8) as svc:
        svc.subscribe(events.append)
        with pytest.raises(FileNotFoundError):
            svc.start_file_stream(tmp_path / "nope.bin", media())
        assert events == []
        path = tmp_path / "real.bin"
        path.write_bytes(pattern(3000))
        assert len(list(svc.start_file_stream(path, media()))) == 3     # the id is still free


def test_a_directory_is_an_os_error_before_anything_starts(tmp_path):
    events = []
    with MediaStreamingService(8) as svc:
        svc.subscribe(events.append)
        with pytest.raises(OSError):
            svc.start_file_stream(tmp_path, media())
        assert events == []


@pytest.mark.parametrize("bad", [None, 3.5, ["x"], object()], ids=lambda v: type(v).__name__)
def test_a_path_of_the_wrong_type_is_a_type_error_and_starts_nothing(bad):
    events = []
    with MediaStreamingService(8) as svc:
        svc.subscribe(events.append)
        with pytest.raises(TypeError):
            svc.start_file_stream(bad, media())
        assert events == []


def test_an_int_path_is_a_type_error_that_leaves_the_descriptor_and_the_id_alone(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(pattern(4000))
    fd = os.open(path, os.O_RDONLY)
    events = []
    try:
        with MediaStreamingService(8) as svc:
            svc.subscribe(events.append)
            with pytest.raises(TypeError):
                svc.start_file_stream(fd, media())
            import gc
            gc.collect()
            os.fstat(fd)                                   # still the caller's, still open
            assert events == []
            assert len(list(svc.start_file_stream(path, media()))) == 4
    finally:
        try:
            os.close(fd)
        except OSError:
            pass


def test_an_empty_file_gives_no_chunks_but_a_start_and_a_stop(tmp_path):
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    events = []
    with MediaStreamingService(8) as svc:
        svc.subscribe(events.append)
        assert list(svc.start_file_stream(path, media())) == []
    assert kinds(events) == ["StreamStarted", "StreamStopped"]


def test_a_file_of_one_byte_and_of_an_exact_multiple(tmp_path):
    with MediaStreamingService(8) as svc:
        for size, count in ((1, 1), (CHUNK, 1), (CHUNK * 5, 5), (CHUNK * 5 + 1, 6)):
            path = tmp_path / f"{size}.bin"
            data = pattern(size)
            path.write_bytes(data)
            chunks = list(svc.start_file_stream(path, media(f"f{size}")))
            assert len(chunks) == count and b"".join(bytes(c.data) for c in chunks) == data
            assert [c.is_final for c in chunks] == [False] * (count - 1) + [True]


# --- files changed while being read (in a child process) ----------------------------------------------

def _paused_stream(path, size):
    """Start a file stream whose producer is blocked on a full buffer; return (svc, stream, events)."""
    events = []
    svc = MediaStreamingService(4, batch=4)
    svc.subscribe(events.append)
    stream = svc.start_file_stream(path, media(chunk_size=CHUNK))
    first = next(stream)                               # the producer is running and now blocks
    time.sleep(0.2)
    return svc, stream, events, first


def _collect(stream, received):
    try:
        for c in stream:
            received.append(c)
    except Exception as error:                         # reported to the parent process
        return error
    return None


def scenario(kind, directory):
    """Runs in a child process: change the file under a paused stream; print what was seen."""
    path = Path(directory) / "media.bin"
    size = 8 << 20                                     # far more than any read-ahead
    original = pattern(size)
    path.write_bytes(original)
    svc, stream, events, first = _paused_stream(path, size)
    if kind == "truncate":
        os.truncate(path, 100 * CHUNK + 10)
    elif kind == "replace":
        fresh = Path(directory) / "fresh.bin"
        fresh.write_bytes(pattern(size // 2, salt=3))
        os.replace(fresh, path)
    elif kind == "delete":
        os.unlink(path)
    elif kind == "overwrite-shorter":
        with open(path, "wb") as f:                    # same inode, truncated to 0 and rewritten
            f.write(pattern(5 * CHUNK, salt=5))
    received = [first]
    error = _collect(stream, received)
    svc.shutdown()
    data = b"".join(bytes(c.data) for c in received)
    print(json.dumps({
        "error": type(error).__name__ if error else None,
        "prefix_ok": original.startswith(data),
        "bytes": len(data),
        "seqs_ok": [c.sequence_number for c in received] == list(range(len(received))),
        "finals": [c.sequence_number for c in received if c.is_final],
        "count": len(received),
        "kinds": kinds(events),
    }))


def run_scenario(kind, tmp_path):
    code = (f"import sys; sys.path.insert(0, {str(REPO)!r}); "
            f"from tests.adversarial.test_files import scenario; scenario({kind!r}, {str(tmp_path)!r})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=str(REPO))
    if done.returncode < 0:
        pytest.fail(f"the streaming process died with {signal.Signals(-done.returncode).name}: "
                    f"{done.stderr[-2000:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_file_truncated_while_being_read_is_reported_after_an_exact_prefix(tmp_path):
    seen = run_scenario("truncate", tmp_path)
    assert seen["error"] == StreamTruncated.__name__, seen
    assert seen["prefix_ok"] and seen["seqs_ok"] and seen["finals"] == [], seen
    assert CHUNK <= seen["bytes"] < 8 << 20, seen       # what was read before the cut, no more
    assert seen["kinds"] == ["StreamStarted", "StreamStopped"], seen


def test_a_file_overwritten_shorter_in_place_is_reported_as_truncated(tmp_path):
    seen = run_scenario("overwrite-shorter", tmp_path)
    assert seen["error"] == StreamTruncated.__name__, seen
    assert seen["seqs_ok"] and seen["finals"] == [], seen
    assert seen["kinds"] == ["StreamStarted", "StreamStopped"], seen


@pytest.mark.parametrize("kind", ["replace", "delete"])
def test_a_file_replaced_or_deleted_while_being_read_is_streamed_as_opened(kind, tmp_path):
    seen = run_scenario(kind, tmp_path)
    assert seen["error"] is None, seen
    assert seen["prefix_ok"] and seen["bytes"] == 8 << 20 and seen["seqs_ok"], seen
    assert seen["finals"] == [seen["count"] - 1], seen
    assert seen["kinds"] == ["StreamStarted", "StreamStopped"], seen


# --- stream ids and rejected chunks inside the service ------------------------------------------------

def test_the_same_id_cannot_run_twice_at_once(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(pattern(64 * CHUNK))
    with MediaStreamingService(2) as svc:
        running = svc.start_file_stream(path, media())
        with pytest.raises(ValueError, match="already active"):
            svc.start_file_stream(path, media())
        assert len(list(running)) == 64


def test_a_stream_id_started_again_after_it_ended_delivers_its_new_chunks():
    events = []
    with MediaStreamingService(64) as svc:
        svc.subscribe(events.append)
        first = list(svc.start_live_stream(media(chunk_size=4), [b"a" * 4] * 10))
        second = list(svc.start_live_stream(media(chunk_size=4), [b"b" * 4] * 5))
    assert len(first) == 10
    assert [bytes(c.data) for c in second] == [b"b" * 4] * 5
    assert [e for e in events if isinstance(e, ChunkDropped)] == []


@pytest.mark.parametrize("content, cap", [(MediaType.AUDIO, "audio_size_limit"),
                                          (MediaType.VIDEO, "video_size_limit"),
                                          (MediaType.MIXED, "video_size_limit")])
def test_a_chunk_size_over_the_type_cap_is_refused_at_start_naming_the_cap(tmp_path, content, cap):
    # Every chunk of such a stream would be refused by validation: the stream would end "normally"
    # with nothing delivered. It is refused at start, and leaves nothing behind.
    limit = getattr(ChunkProcessorConfig(), cap)
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * (limit + 10))
    events = []
    with MediaStreamingService(8) as svc:
        svc.subscribe(events.append)
        for start in (lambda s: svc.start_file_stream(path, s),
                      lambda s: svc.start_live_stream(s, [b"x" * (limit + 1)])):
            with pytest.raises(ValueError, match=cap):
                start(media("big", chunk_size=limit + 1, content=content))
        assert list(svc.start_file_stream(path, media("big", chunk_size=limit, content=content)))
        assert svc.get_metrics("big").dropped_chunks == 0
    assert not any(isinstance(e, ChunkDropped) for e in events)
    config = ChunkProcessorConfig(enable_validation=False)       # nothing refuses the chunks then
    with MediaStreamingService(8, processor_config=config) as svc:
        chunks = list(svc.start_file_stream(path, media("big", chunk_size=limit + 1, content=content)))
    assert [len(c) for c in chunks] == [limit + 1, 9]


def test_zz_debug_build_leaves_no_live_objects():
    check_debug_counters()
