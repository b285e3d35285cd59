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
        windows = FileWindows(f.fileno(), "s")
        assert windows.mapped and windows.size == len(data)
        first, second = windows.read(0, 4096), windows.read(4096, 5904)
        assert isinstance(first, memoryview) and first.readonly
        assert first.obj is second.obj            # one mapping, no copies
        assert bytes(first) + bytes(second) == data


def test_a_file_that_shrank_gives_stream_truncated_not_a_fault(tmp_path):
    path = _file(tmp_path, os.urandom(8192))
    with open(path, "rb") as f:
        windows = FileWindows(f.fileno(), "s")
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
        assert not FileWindows(f.fileno(), "s").mapped
    read_end, write_end = os.pipe()
    try:
        assert not FileWindows(read_end, "s").mapped
    finally:
        os.close(read_end)
        os.close(write_end)
