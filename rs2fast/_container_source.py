"""Where container ingest reads from: a path, a bytes-like object or a binary file object.

A ContainerSource opens the source, hands PyAV something to open, checks the file's own structure
before any packet is read, and notices a file that shrinks or is rewritten while it is read.
"""
from __future__ import annotations

import io
import logging
import os
import stat
from typing import Any

from rs2fast._container_checks import structure_problem
from rs2fast.errors import MediaFormatError, StreamTruncated

log = logging.getLogger("rs2fast")

UNKNOWN_SIZE = -1
HEADER_BYTES = 1024            # bytes read ahead for the structure checks


class ContainerSource:
    """One source of container bytes: `name` (for messages), `size` (UNKNOWN_SIZE for a file
    object that cannot seek) and `file` (None once closed).

    A path must be a regular file (FileNotFoundError, IsADirectoryError, or MediaFormatError for a
    FIFO or a device, which would block or never end). Bytes are copied once. A file object is
    read from its current position and is not closed here.
    """

    def __init__(self, source: Any) -> None:
        self.file: Any = None
        self._owns_file = False
        self._identity = None
        self._mtime = 0
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            mode = os.stat(path).st_mode            # FileNotFoundError, PermissionError, ...
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(21, "Is a directory", path)
            if not stat.S_ISREG(mode):
                raise MediaFormatError(f"{path!r} is not a regular file")
            self.file = open(path, "rb")
            self._owns_file = True
            info = os.fstat(self.file.fileno())
            self._identity = (info.st_dev, info.st_ino)
            self._mtime = info.st_mtime_ns
            self.name, self.size, self._target = path, info.st_size, path
        elif isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            self.file = io.BytesIO(data)
            self.name, self.size, self._target = "<bytes>", len(data), data
        elif hasattr(source, "read"):
            self.file = source
            size = UNKNOWN_SIZE
            if seekable(source):
                here = source.tell()
                size = source.seek(0, os.SEEK_END) - here
                source.seek(here)
            self.name, self.size, self._target = getattr(source, "name", "<file>"), size, source
        else:
            raise TypeError(f"source must be a path, a bytes-like object or a binary file, "
                            f"not {type(source).__name__}")

    def open_container(self, av, container_format=None):
        """The PyAV input container of this source (PyAV's errors pass through)."""
        target = io.BytesIO(self._target) if isinstance(self._target, bytes) else self._target
        return av.open(target, mode="r", format=container_format, metadata_errors="replace")

    def header(self) -> bytes:
        """The first bytes of the container (empty when the source cannot seek back)."""
        handle = self.file
        if handle is None or not seekable(handle):
            return b""
        here = handle.tell()
        try:
            return handle.read(HEADER_BYTES)
        finally:
            handle.seek(here)

    def check_structure(self, family: str, header: bytes) -> None:
        """MediaFormatError when the file's own structure says bytes are missing."""
        handle = self.file
        if handle is None or self.size == UNKNOWN_SIZE or not seekable(handle):
            return
        problem = structure_problem(family, handle, header, self.size)
        if problem:
            raise MediaFormatError(f"{self.name}: damaged or truncated {family} file: {problem}")

    def check_truncated(self, stream_id: str) -> None:
        """StreamTruncated if the opened file shrank (or was cut and rewritten) while being read."""
        handle = self.file
        if handle is None or self._identity is None:
            return
        info = os.fstat(handle.fileno())
        if info.st_size < self.size:
            raise StreamTruncated(f"{self.name}: file shrank from {self.size} to {info.st_size} bytes "
                                  f"while it was being read", stream_id=stream_id)
        if info.st_mtime_ns != self._mtime:
            if info.st_size == self.size:
                raise StreamTruncated(f"{self.name}: file was rewritten while it was being read",
                                      stream_id=stream_id)
            log.warning("rs2fast: %s grew while it was being read; the first %d bytes were streamed",
                        self.name, self.size)

    def close(self) -> None:
        """Close the file if this source opened it (idempotent)."""
        handle, self.file = self.file, None
        if handle is not None and self._owns_file:
            handle.close()


def seekable(handle) -> bool:
    """Whether a file object can seek (False when asking fails)."""
    try:
        return bool(handle.seekable())
    except Exception:
        return False


def error_text(error: BaseException) -> str:
    """A PyAV/FFmpeg error as one line: its message and FFmpeg's own log line when there is one."""
    text = getattr(error, "strerror", None) or str(error)
    log_text = getattr(error, "log", None)
    if log_text and isinstance(log_text, tuple) and len(log_text) >= 3 and log_text[2]:
        text = f"{text}: {log_text[2].strip()}"
    return text
