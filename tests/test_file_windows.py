"""FileWindows: zero-copy views of a mapped file, pread copies where mapping is not safe."""
import os

import pytest

from rs2fast._file_windows import FileWindows
from rs2fast.errors import StreamTruncated


def _file(tmp_path, data):
    path = tmp_path / "media.bin"
    path.write_bytes(data)
    return path


def test_regular_file_windows_are_views_of_one_mapping(tmp_path):
    data = os.urandom(10_000)
    with open(_file(tmp_path, data), "rb") as f:
        windows = FileWindows(f.fileno(), "s", use_mmap=True)
        assert windows.mapped and windows.size == len(data)
        first, second = windows.read(0, 4096), windows.read(4096, 5904)
        assert isinstance(first, memoryview) and first.readonly
        assert first.obj is second.obj            # one mapping, no copies
        assert bytes(first) + bytes(second) == data


def test_a_file_that_shrank_gives_stream_truncated_not_a_fault(tmp_path):
    path = _file(tmp_path, os.urandom(8192))
    with open(path, "rb") as f:
        windows = FileWindows(f.fileno(), "s", use_mmap=True)
        assert bytes(windows.read(0, 4096))
        os.truncate(path, 5000)
        with pytest.raises(StreamTruncated, match="ended at byte 5000, expected 8192") as caught:
            windows.read(4096, 4096)
        assert caught.value.stream_id == "s"


@pytest.mark.parametrize("use_mmap", [True, False])
def test_pread_fallback_reads_the_same_bytes_and_detects_shrinking(tmp_path, use_mmap):
    data = os.urandom(3000)
    path = _file(tmp_path, data)
    with open(path, "rb") as f:
        windows = FileWindows(f.fileno(), "s", use_mmap=use_mmap)
        assert windows.mapped is use_mmap
        assert bytes(windows.read(1000, 2000)) == data[1000:]
        os.truncate(path, 2500)
        with pytest.raises(StreamTruncated):
            windows.read(2000, 1000)


def test_empty_files_and_pipes_are_not_mapped(tmp_path):
    with open(_file(tmp_path, b""), "rb") as f:
        assert not FileWindows(f.fileno(), "s", use_mmap=True).mapped
    read_end, write_end = os.pipe()
    try:
        assert not FileWindows(read_end, "s", use_mmap=True).mapped
    finally:
        os.close(read_end)
        os.close(write_end)


def test_service_streams_a_mapped_file_byte_exact(tmp_path):
    from rs2fast import MediaStream, MediaStreamingService, MediaType, QualityLevel
    data = os.urandom(300_000)
    path = _file(tmp_path, data)
    stream = MediaStream(id="m", user_id=1, content_type=MediaType.VIDEO,
                         quality=QualityLevel.HIGH, chunk_size=4096)
    with MediaStreamingService(64, map_files=True) as service:
        chunks = list(service.start_file_stream(path, stream))
    assert b"".join(bytes(c) for c in chunks) == data
    assert [c.sequence_number for c in chunks] == list(range(len(chunks)))
    assert [c.is_final for c in chunks].count(True) == 1 and chunks[-1].is_final
    assert all(c.checksum_matches() for c in chunks)


def test_map_files_must_be_a_bool():
    from rs2fast import MediaStreamingService
    with pytest.raises(TypeError, match="map_files"):
        MediaStreamingService(map_files="yes")
