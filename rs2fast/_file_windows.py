"""FileWindows: the bytes of an open file, window by window.

By default each window is read with `pread` into new bytes (one copy; the chunks split from it are
views of it), and a short read means the file shrank: StreamTruncated. With `use_mmap`, a regular
file is mapped read-only once and each window is a view of the mapping (no copy at all). Before each
window the file's size is checked again, so a file that shrank gives StreamTruncated instead of a
fault; but a view handed out earlier faults (SIGBUS) if it is read after its part of the file was
cut off, so mapping is for files nobody shrinks while their chunks are alive. Anything that cannot
be mapped (a pipe, a device, an empty file) is read with `pread`.
"""
from __future__ import annotations

import mmap
import os
import stat
from typing import Optional, Union

from rs2fast.errors import StreamTruncated


class FileWindows:
    """Windows `[offset, offset + length)` of the file open on `fd`, of `size` bytes at start."""

    def __init__(self, fd: int, stream_id: str, *, use_mmap: bool) -> None:
        info = os.fstat(fd)
        self.fd = fd
        self.size = info.st_size
        self._stream_id = stream_id
        self._map: Optional[memoryview] = None
        if use_mmap and stat.S_ISREG(info.st_mode) and self.size > 0:
            try:
                self._map = memoryview(mmap.mmap(fd, self.size, access=mmap.ACCESS_READ))
            except (OSError, ValueError):
                self._map = None

    @property
    def mapped(self) -> bool:
        """Whether windows are views of a mapping (True) or copies read with pread (False)."""
        return self._map is not None

    def read(self, offset: int, length: int) -> Union[memoryview, bytes]:
        """The window's bytes; StreamTruncated if the file no longer holds all of them."""
        if self._map is not None:
            now = os.fstat(self.fd).st_size
            if now < offset + length:
                self._truncated(offset, max(now, offset), offset + length)
            return self._map[offset:offset + length]
        data = _pread_up_to(self.fd, length, offset)
        if len(data) < length:
            self._truncated(offset, offset + len(data), offset + length)
        return data

    def _truncated(self, offset: int, ended: int, expected: int) -> None:
        raise StreamTruncated(f"file shrank while being read (ended at byte {ended}, expected "
                              f"{expected})", stream_id=self._stream_id)


def _pread_up_to(fd: int, size: int, offset: int) -> bytes:
    """Read `size` bytes at `offset`, fewer only at the end of the file."""
    data = os.pread(fd, size, offset)
    if len(data) in (0, size):
        return data
    pieces = [data]
    got = len(data)
    while got < size:
        piece = os.pread(fd, size - got, offset + got)
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    return b"".join(pieces)
