"""The Redis entry format and key names of rs2fast.redis; no server and no redis-py needed."""
from __future__ import annotations

import sys

import pytest
from hypothesis import given, strategies as st

from rs2fast import ChunkType, MediaChunk, MediaPriority
from rs2fast._redis_wire import HEADER, check_name, decode, encode
from rs2fast._redis_wire import lease_key, position_key, stream_id_of, stream_key

names = st.text(min_size=1, max_size=40).filter(lambda s: "{" not in s and "}" not in s)
chunks = st.builds(
    MediaChunk, names, st.integers(0, 2**64 - 1), st.binary(max_size=300), st.sampled_from(list(ChunkType)),
    st.sampled_from(list(MediaPriority)), is_final=st.booleans(),
    checksum=st.one_of(st.none(), st.just("sha256"), st.just("crc32c")),
    timestamp_ns=st.integers(-2**63, 2**63 - 1))


def fields_of(chunk):
    header, data = encode(chunk)
    return {b"h": header, b"d": bytes(data)}


@given(chunks)
def test_every_field_round_trips_and_a_missing_checksum_becomes_crc32c(chunk):
    if chunk.checksum in ("sha256", "crc32c"):
        chunk = chunk.with_checksum(chunk.checksum)
    back = decode(fields_of(chunk))
    assert back == (chunk if chunk.checksum else chunk.with_checksum("crc32c"))
    assert back.checksum_matches()


def test_the_header_is_compact_binary():
    header, data = encode(MediaChunk("cam", 7, b"abc", ChunkType.AUDIO, timestamp_ns=5))
    assert len(header) == HEADER.size + len("cam") + len("crc32c:") + 8 and data == b"abc"
    assert header.startswith(b"r2\x01")


@pytest.mark.parametrize("fields, message", [
    (None, "empty"),
    ({b"note": b"hello"}, "no rs2fast header"),
    ({b"h": b"xx" + bytes(30), b"d": b"x"}, "unknown entry format"),
    ({b"h": b"r2\x09" + bytes(30), b"d": b"x"}, "unknown entry format"),
])
def test_foreign_entries_are_value_errors(fields, message):
    with pytest.raises(ValueError, match=message):
        decode(fields)


def test_damaged_headers_are_value_errors():
    fields = fields_of(MediaChunk("cam", 1, b"data", 0))
    with pytest.raises(ValueError, match="wrong length"):
        decode({b"h": fields[b"h"] + b"!", b"d": fields[b"d"]})
    bad_type = bytearray(fields[b"h"])
    bad_type[HEADER.size - 7] = 99                       # the chunk type byte
    with pytest.raises(ValueError, match="invalid chunk"):
        decode({b"h": bytes(bad_type), b"d": fields[b"d"]})


def test_keys_share_the_stream_hash_tag():
    assert stream_key("rs2fast", "cam") == "rs2fast:{cam}"
    assert lease_key("rs2fast", "cam", "g") == "rs2fast:{cam}:lease:g"
    assert position_key("rs2fast", "cam") == "rs2fast:{cam}:pos"
    assert stream_id_of("rs2fast", b"rs2fast:{cam}") == "cam"
    for other in (b"rs2fast:{cam}:pos", b"rs2fast:{cam}:lease:g}", b"other:{cam}", b"rs2fast:{}",
                  "rs2fast:{a}b}"):
        assert stream_id_of("rs2fast", other) is None


@pytest.mark.parametrize("value, error", [("", ValueError), ("a{", ValueError), ("b}", ValueError),
                                          (3, TypeError), (None, TypeError)])
def test_names_are_checked(value, error):
    with pytest.raises(error, match="stream_id"):
        check_name(value, "stream_id")


def test_without_redis_py_the_error_says_what_to_install(monkeypatch):
    from rs2fast import redis as rs2fast_redis

    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ModuleNotFoundError, match=r'pip install "rs2fast\[redis\]"'):
        rs2fast_redis.connect("redis://127.0.0.1:6379")
