"""File-structure checks: does a container's own structure say that bytes are missing?

FFmpeg reads a cut-off file as far as it goes and stops without complaint. These checks look at what
the file declares about itself before any packet is read: the top-level MP4/MOV boxes must end
inside the file, a Matroska/WebM segment of known size must fit in it, and an MPEG-TS file must be
whole transport packets.
"""
from __future__ import annotations

from typing import Optional

from rs2fast._matroska import EBML_HEADER_ID, SEGMENT_ID, read_vint

# FFmpeg demuxer names of the container families (as `container.format.name` reports them).
MOV = "mov,mp4,m4a,3gp,3g2,mj2"
MATROSKA = "matroska,webm"
MPEGTS = "mpegts"
FAMILY_BY_EXTENSION = {".mp4": MOV, ".m4v": MOV, ".mov": MOV, ".mkv": MATROSKA, ".webm": MATROSKA,
                       ".ts": MPEGTS, ".m2ts": MPEGTS}
# Demuxers accepted as media containers (anything else FFmpeg can open, e.g. "tty" for text files or
# raw elementary streams without timestamps, is refused as "not a container").
SUPPORTED_FORMATS = frozenset({MOV, MATROSKA, MPEGTS, "avi", "flv", "ogg", "mpeg", "nut", "asf"})
BOX_LIMIT = 1 << 20           # top-level MP4 boxes walked, at most


def structure_problem(family: str, handle, header: bytes, size: int) -> Optional[str]:
    """What is missing from a `family` file of `size` bytes whose first bytes are `header`, or None.

    `handle` is the seekable file, positioned at the container's start; it is left there.
    """
    here = handle.tell()
    try:
        if family == MOV:
            return _mp4_problem(handle, here, size)
        if family == MATROSKA:
            return _matroska_problem(header, size)
        if family == MPEGTS:
            return _ts_problem(header, size)
        return None
    finally:
        handle.seek(here)


def _mp4_problem(handle, base: int, size: int) -> Optional[str]:
    """Walk the top-level ISO-BMFF boxes; a box running past the end of the file means truncation."""
    offset = 0
    for _ in range(BOX_LIMIT):
        if offset == size:
            return None
        if size - offset < 8:
            return f"{size - offset} stray bytes after the last box at offset {offset}"
        handle.seek(base + offset)
        head = handle.read(16)
        box_size = int.from_bytes(head[:4], "big")
        kind = head[4:8].decode("latin-1")
        header = 8
        if box_size == 1:
            if len(head) < 16:
                return f"box {kind!r} at offset {offset} is cut inside its header"
            box_size = int.from_bytes(head[8:16], "big")
            header = 16
        elif box_size == 0:
            return None                  # runs to the end of the file by definition
        if box_size < header:
            return f"box {kind!r} at offset {offset} has an impossible size {box_size}"
        if offset + box_size > size:
            return (f"box {kind!r} at offset {offset} needs {box_size} bytes but only "
                    f"{size - offset} remain")
        offset += box_size
    return None


def _matroska_problem(header: bytes, size: int) -> Optional[str]:
    """The Segment's declared size must fit in the file (unknown-size segments cannot be checked)."""
    try:
        ident, at = read_vint(header, 0, False)
        if ident != EBML_HEADER_ID:
            return None
        length, at = read_vint(header, at, True)
        if length is None:
            return None
        at += length
        ident, at = read_vint(header, at, False)
        if ident != SEGMENT_ID:
            return None
        length, at = read_vint(header, at, True)
    except IndexError:
        return None
    if length is not None and at + length > size:
        return f"the segment needs {at + length} bytes but the file has {size}"
    return None


def _ts_problem(header: bytes, size: int) -> Optional[str]:
    """An MPEG-TS file is whole packets (188, 192 or 204 bytes); a partial last packet is truncation."""
    for packet, sync in ((188, 0), (192, 4), (204, 0)):
        if len(header) > packet + sync and header[sync] == 0x47 and header[packet + sync] == 0x47:
            if size % packet:
                return (f"it ends inside a {packet}-byte transport packet "
                        f"({size % packet} bytes of the last one)")
            return None
    return None
