"""The binary form of a MediaChunk in a Redis Stream entry, and the key names of one stream.

An entry has two fields: `h`, a fixed little-endian header followed by the stream id and the checksum
(both UTF-8), and `d`, the chunk's bytes. Header: magic b"r2", format version, sequence number (u64),
timestamp in ns (i64), chunk type, priority, flags (bit 0: is_final), stream id length (u16),
checksum length (u16).
"""
from __future__ import annotations

import struct
from typing import Any, Mapping, Optional

from rs2fast._chunk import MediaChunk, checksum_hex

MAGIC = b"r2"
VERSION = 1
HEADER = struct.Struct("<2sBQqBBBHH")
FINAL = 1
_MAX_TEXT = 0xFFFF


def check_name(value: Any, name: str) -> str:
    """`value` as a name usable inside a Redis key: a non-empty str without braces."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value or "{" in value or "}" in value:
        raise ValueError(f"{name} must be a non-empty string without '{{' or '}}', got {value!r}")
    return value


def stream_key(prefix: str, stream_id: str) -> str:
    """The Redis Stream key of `stream_id`; the braces make it a cluster hash tag."""
    return f"{prefix}:{{{stream_id}}}"


def lease_key(prefix: str, stream_id: str, group: str) -> str:
    """The key whose value names the consumer of `group` that owns `stream_id`."""
    return f"{prefix}:{{{stream_id}}}:lease:{group}"


def position_key(prefix: str, stream_id: str) -> str:
    """The hash {group: next expected sequence number} of `stream_id`."""
    return f"{prefix}:{{{stream_id}}}:pos"


def stream_id_of(prefix: str, key: bytes | str) -> Optional[str]:
    """The stream id in a data key `prefix:{id}`, or None when `key` is some other key."""
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    head = prefix + ":{"
    if not (text.startswith(head) and text.endswith("}")):
        return None
    stream_id = text[len(head):-1]
    return stream_id if stream_id and "{" not in stream_id and "}" not in stream_id else None


def encode(chunk: MediaChunk) -> tuple[bytes, Any]:
    """(header field, data field) of `chunk`; a chunk without a checksum gets its CRC-32C."""
    data = chunk.data
    checksum = chunk.checksum
    if checksum is None:
        checksum = checksum_hex(data, "crc32c")
    sid = chunk.stream_id.encode()
    tag = checksum.encode()
    if len(sid) > _MAX_TEXT or len(tag) > _MAX_TEXT:
        raise ValueError(f"stream_id and checksum must each be at most {_MAX_TEXT} bytes in UTF-8")
    header = HEADER.pack(MAGIC, VERSION, chunk.sequence_number, chunk.timestamp_ns,
                         int(chunk.chunk_type), int(chunk.priority), FINAL if chunk.is_final else 0,
                         len(sid), len(tag))
    return header + sid + tag, data


def decode(fields: Optional[Mapping[Any, Any]]) -> MediaChunk:
    """The MediaChunk stored in an entry's fields; ValueError when they are not an rs2fast chunk."""
    if not fields:
        raise ValueError("the entry is empty")
    head = fields.get(b"h", fields.get("h"))
    data = fields.get(b"d", fields.get("d"))
    if not isinstance(head, bytes) or not isinstance(data, bytes) or len(head) < HEADER.size:
        raise ValueError("the entry has no rs2fast header and data fields")
    magic, version, seq, ts, ctype, prio, flags, sid_len, tag_len = HEADER.unpack_from(head)
    if magic != MAGIC or version != VERSION:
        raise ValueError(f"unknown entry format {magic!r} version {version}")
    if len(head) != HEADER.size + sid_len + tag_len:
        raise ValueError("the entry header has the wrong length")
    sid = head[HEADER.size:HEADER.size + sid_len].decode()
    tag = head[HEADER.size + sid_len:].decode()
    try:
        return MediaChunk(sid, seq, data, ctype, prio, is_final=bool(flags & FINAL), checksum=tag,
                          timestamp_ns=ts)
    except (TypeError, ValueError) as error:
        raise ValueError(f"the entry holds an invalid chunk: {error}") from None
