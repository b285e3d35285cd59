"""EBML, the element format of Matroska/WebM: headers written for remuxing, sizes read for checks.

`template_container` writes a header-only Matroska file describing some streams and opens it with
PyAV, because PyAV copies codec parameters (extradata included) into a muxer only from existing
streams. `read_vint` reads the variable-length integers that element ids and sizes are made of.
"""
from __future__ import annotations

import io
import struct
from typing import TYPE_CHECKING, Optional, Tuple

from rs2fast.errors import UnsupportedFormat

if TYPE_CHECKING:
    from rs2fast._container_info import StreamInfo

# Matroska codec ids of the codecs a template header can describe.
MATROSKA_CODECS = {
    "h264": "V_MPEG4/ISO/AVC", "hevc": "V_MPEGH/ISO/HEVC", "vp8": "V_VP8", "vp9": "V_VP9", "av1": "V_AV1",
    "mpeg4": "V_MPEG4/ISO/ASP", "mpeg2video": "V_MPEG2", "mpeg1video": "V_MPEG1",
    "aac": "A_AAC", "opus": "A_OPUS", "vorbis": "A_VORBIS", "flac": "A_FLAC", "mp3": "A_MPEG/L3",
    "mp2": "A_MPEG/L2", "ac3": "A_AC3", "eac3": "A_EAC3", "pcm_s16le": "A_PCM/INT/LIT",
}

EBML_HEADER_ID = 0x1A45DFA3
SEGMENT_ID = 0x18538067


def _element(element_id: int, payload: bytes) -> bytes:
    ident = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return ident + b"\x01" + len(payload).to_bytes(7, "big") + payload     # 8-byte size field


def _uint_element(element_id: int, value: int) -> bytes:
    return _element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _track_entry(number: int, desc: "StreamInfo") -> bytes:
    codec_id = MATROSKA_CODECS.get(desc.codec)
    if codec_id is None:
        raise UnsupportedFormat(f"remux cannot describe {desc.codec!r} streams")
    body = (_uint_element(0xD7, number) + _uint_element(0x73C5, number)
            + _uint_element(0x83, 1 if desc.kind == "video" else 2) + _element(0x86, codec_id.encode()))
    if desc.extradata:
        body += _element(0x63A2, desc.extradata)
    if desc.kind == "video":
        body += _element(0xE0, _uint_element(0xB0, desc.width) + _uint_element(0xBA, desc.height))
    else:
        body += _element(0xE1, _element(0xB5, struct.pack(">d", float(desc.sample_rate)))
                         + _uint_element(0x9F, desc.channels or 2))
    return _element(0xAE, body)


def template_container(av, streams: Tuple["StreamInfo", ...]):
    """An in-memory Matroska header describing `streams` (codec, extradata, size / rate), opened as
    an input container whose streams serve as muxer templates. UnsupportedFormat for a codec
    Matroska has no id for here."""
    entries = b"".join(_track_entry(number, desc) for number, desc in enumerate(streams, 1))
    header = _element(EBML_HEADER_ID, _uint_element(0x4286, 1) + _uint_element(0x42F7, 1)
                      + _uint_element(0x42F2, 4) + _uint_element(0x42F3, 8)
                      + _element(0x4282, b"matroska") + _uint_element(0x4287, 4)
                      + _uint_element(0x4285, 2))
    segment = (_element(0x1549A966, _uint_element(0x2AD7B1, 1_000_000)) + _element(0x1654AE6B, entries)
               + _element(0x1F43B675, _uint_element(0xE7, 0)))
    unknown_size = b"\x01\xff\xff\xff\xff\xff\xff\xff"
    data = header + SEGMENT_ID.to_bytes(4, "big") + unknown_size + segment
    return av.open(io.BytesIO(data), format="matroska")


def read_vint(data: bytes, offset: int, is_size: bool) -> Tuple[Optional[int], int]:
    """An EBML variable-length integer at `offset`: (value, next offset). For a size (`is_size`) the
    length marker bit is dropped and the all-ones value ("unknown size") reads as None. IndexError
    when `data` ends first."""
    if offset >= len(data):
        raise IndexError
    first = data[offset]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or offset + length > len(data):
        raise IndexError
    value = first if not is_size else first & (0xFF >> length)
    for byte in data[offset + 1:offset + length]:
        value = (value << 8) | byte
    if is_size and value == (1 << (7 * length)) - 1:
        return None, offset + length
    return value, offset + length
