"""ChunkBatch: an immutable sequence of MediaChunks with numpy columns (checked against plain Python)."""
import collections.abc
import copy
import hashlib
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rs2fast._batch import ChunkBatch
from rs2fast._chunk import MediaChunk, split_buffer
from tests.reference import reference_crc32c

COLUMNS = {  # column name -> (dtype, the field of one chunk in plain Python)
    "sequence_numbers": (np.uint64, lambda c: c.sequence_number),
    "chunk_types": (np.uint8, lambda c: int(c.chunk_type)),
    "priorities": (np.uint8, lambda c: int(c.priority)),
    "sizes": (np.int64, len),
    "timestamps_ns": (np.int64, lambda c: c.timestamp_ns),
}


@st.composite
def chunks(draw, checksums=st.sampled_from(["crc32c", "sha256", "none", "malformed"])):
    data = draw(st.binary(max_size=40))
    kind = draw(checksums)
    checksum = {"crc32c": "crc32c:%08x" % reference_crc32c(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "none": None,
                "malformed": "crc32c:" + data.hex()[:4]}[kind]
    return MediaChunk(draw(st.text(min_size=1, max_size=3)), draw(st.integers(0, 2**64 - 1)), data,
                      draw(st.integers(0, 5)), draw(st.none() | st.integers(1, 3)),
                      timestamp_ns=draw(st.integers(-2**63, 2**63 - 1)), is_final=draw(st.booleans()),
                      checksum=checksum)


crc_chunks = chunks(checksums=st.just("crc32c"))


def expected_column(name, items):
    dtype, field = COLUMNS[name]
    return np.array([field(c) for c in items], dtype=dtype)


@given(st.lists(chunks(), max_size=40))
def test_columns_equal_the_fields_read_in_python(items):
    batch = ChunkBatch(items)
    for name, (dtype, _) in COLUMNS.items():
        column = getattr(batch, name)
        assert column.dtype == dtype, name
        assert column.shape == (len(items),)
        assert np.array_equal(column, expected_column(name, items)), name
        assert not column.flags.writeable
    assert batch.total_bytes == sum(len(c) for c in items)
    others = [i for i, c in enumerate(items) if not (c.checksum or "").startswith("crc32c:")
              or len(c.checksum) != 15]
    if others:
        with pytest.raises(ValueError, match=f"chunk {others[0]} \\(sequence number "
                                             f"{items[others[0]].sequence_number}\\)"):
            batch.crc32c
    else:
        assert batch.crc32c.tolist() == [int(c.checksum[7:], 16) for c in items]


@given(st.lists(crc_chunks, max_size=40))
def test_crc32c_column_holds_the_values_of_the_checksum_strings(items):
    column = ChunkBatch(items).crc32c
    assert column.dtype == np.uint32
    assert not column.flags.writeable
    assert column.tolist() == [int(c.checksum[len("crc32c:"):], 16) for c in items]
    assert column.tolist() == [reference_crc32c(bytes(c)) for c in items]


@pytest.mark.parametrize("checksum, found", [
    (hashlib.sha256(b"x").hexdigest(), "a SHA-256 checksum"),
    (None, "no checksum"),
    ("crc32c:XYZ", "a malformed checksum 'crc32c:XYZ'"),
    ("CRC32C:" + "0" * 8, "a malformed checksum"),
])
def test_crc32c_column_names_what_it_found_instead(checksum, found):
    good = split_buffer(b"abcdefgh", "s", 4, checksum="crc32c")
    odd = MediaChunk("s", 9, b"x", 0, checksum=checksum)
    batch = ChunkBatch(good + [odd])
    with pytest.raises(ValueError, match="chunk 2 \\(sequence number 9\\) has " + found.replace("(", "\\(")):
        batch.crc32c
    assert batch.sizes.tolist() == [4, 4, 1]          # the other columns still work


@given(st.lists(chunks(), max_size=30), st.data())
def test_behaves_like_a_list_of_its_chunks(items, data):
    batch = ChunkBatch(items)
    n = len(items)
    assert len(batch) == n
    assert list(batch) == items
    assert list(reversed(batch)) == items[::-1]
    assert batch.to_list() == items and batch.to_list() is not batch.to_list()
    for i in range(-n, n):
        assert batch[i] is items[i]
    for bad in (n, -n - 1):
        with pytest.raises(IndexError, match="ChunkBatch index out of range"):
            batch[bad]
    start, stop = data.draw(st.integers(-n - 2, n + 2)), data.draw(st.integers(-n - 2, n + 2))
    step = data.draw(st.sampled_from([None, 1, 2, -1, -3]))
    part = batch[start:stop:step]
    assert type(part) is ChunkBatch
    assert part == items[start:stop:step]
    assert np.array_equal(part.sequence_numbers, batch.sequence_numbers[start:stop:step])
    if items:
        probe = data.draw(st.sampled_from(items))
        assert probe in batch
        assert batch.index(probe) == items.index(probe)
        assert batch.count(probe) == items.count(probe)


def test_iteration_is_the_list_iterator():
    batch = ChunkBatch(split_buffer(b"abcdef", "s", 2))
    assert type(iter(batch)) is type(iter([]))


def test_equality_by_content_with_lists_and_batches():
    items = split_buffer(b"abcdef", "s", 2)
    copies = split_buffer(bytearray(b"abcdef"), "s", 2)
    batch = ChunkBatch(items)
    assert batch == copies and copies == batch
    assert batch == ChunkBatch(copies)
    assert batch != items[:2] and batch != ChunkBatch(items[1:])
    assert batch != split_buffer(b"abcdeX", "s", 2)
    assert batch != tuple(items)                      # like a list: a tuple is another kind of sequence
    assert batch != "abc"
    with pytest.raises(TypeError):
        hash(batch)


def test_empty_batch():
    batch = ChunkBatch()
    assert len(batch) == 0 and list(batch) == [] and batch == [] and batch == ChunkBatch([])
    for name, (dtype, _) in COLUMNS.items():
        column = getattr(batch, name)
        assert column.dtype == dtype and column.shape == (0,)
    assert batch.crc32c.dtype == np.uint32 and batch.crc32c.shape == (0,)
    assert batch.total_bytes == 0
    assert batch[0:5] == [] and type(batch[:]) is ChunkBatch
    with pytest.raises(IndexError):
        batch[0]
    assert repr(batch) == "<ChunkBatch of 0 chunks>"


def test_accepts_any_iterable_and_keeps_its_own_copy():
    items = split_buffer(b"abcdef", "s", 2)
    source = list(items)
    batch = ChunkBatch(source)
    source.clear()
    assert batch == items
    assert ChunkBatch(c for c in items) == items
    assert ChunkBatch(tuple(items)) == items
    assert ChunkBatch(batch) == items


@pytest.mark.parametrize("bad, index", [([b"x"], 0), ([None], 0), (["a", "b"], 0)])
def test_an_item_that_is_not_a_chunk_is_a_type_error_naming_its_index(bad, index):
    items = split_buffer(b"abcd", "s", 2)
    with pytest.raises(TypeError, match=f"ChunkBatch item {len(items) + index} must be a MediaChunk, "
                                        f"not {type(bad[0]).__name__}"):
        ChunkBatch(items + bad)
    with pytest.raises(TypeError, match=f"ChunkBatch item {len(items) + index} must be a MediaChunk"):
        ChunkBatch._from_list(items + bad)


@pytest.mark.parametrize("bad", [3, 2.5, None])
def test_a_non_iterable_is_a_type_error_naming_chunks(bad):
    with pytest.raises(TypeError, match=f"chunks must be an iterable of MediaChunk, not {type(bad).__name__}"):
        ChunkBatch(bad)


def test_an_error_raised_while_iterating_the_input_is_not_masked():
    def broken():
        yield from split_buffer(b"ab", "s", 1)
        raise TypeError("from the producer")
    with pytest.raises(TypeError, match="from the producer"):
        ChunkBatch(broken())


def test_indexes_other_than_integers_and_slices():
    batch = ChunkBatch(split_buffer(b"abcdef", "s", 2))
    assert batch[np.int64(1)] is batch.to_list()[1]
    with pytest.raises(TypeError, match="ChunkBatch indices must be integers or slices, not str"):
        batch["0"]
    with pytest.raises(TypeError, match="not float"):
        batch[1.0]
    with pytest.raises(IndexError, match="ChunkBatch index out of range"):
        batch[2**80]


def test_columns_are_cached_and_read_only():
    batch = ChunkBatch(split_buffer(b"abcdef", "s", 2, checksum="crc32c"))
    for name in (*COLUMNS, "crc32c"):
        column = getattr(batch, name)
        assert getattr(batch, name) is column
        with pytest.raises(ValueError, match="read-only"):
            column[0] = 1


def test_batch_is_immutable_and_final():
    batch = ChunkBatch(split_buffer(b"abcdef", "s", 2))
    with pytest.raises(AttributeError):
        batch.sizes = np.zeros(3, dtype=np.int64)
    with pytest.raises(AttributeError):
        batch.chunks = []
    with pytest.raises(TypeError):
        batch[0] = batch[1]
    with pytest.raises(TypeError):
        type("Sub", (ChunkBatch,), {})


def test_from_list_adopts_the_list_and_a_later_change_never_reaches_c():
    items = split_buffer(b"abcdef", "s", 2)
    batch = ChunkBatch._from_list(items)
    assert batch == split_buffer(b"abcdef", "s", 2)
    items[1] = "not a chunk"                          # breaks the contract: raises, never crashes
    with pytest.raises(RuntimeError, match="changed afterwards"):
        batch.sizes
    with pytest.raises(TypeError):
        ChunkBatch._from_list((1, 2))


def test_is_a_sequence_for_isinstance_checks():
    assert isinstance(ChunkBatch(), collections.abc.Sequence)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_and_copy(protocol):
    batch = ChunkBatch(split_buffer(b"abcdef", "s", 2, checksum="crc32c"))
    again = pickle.loads(pickle.dumps(batch, protocol))
    assert type(again) is ChunkBatch and again == batch
    assert np.array_equal(again.crc32c, batch.crc32c)
    assert copy.copy(batch) == batch and copy.deepcopy(batch) == batch


def test_repr_shows_count_bytes_and_sequence_range():
    batch = ChunkBatch(split_buffer(b"abcde", "s", 2, start_sequence=7))
    assert repr(batch) == "<ChunkBatch of 3 chunks, 5 bytes, sequence numbers 7..9>"
    assert repr(batch[:1]) == "<ChunkBatch of 1 chunk, 2 bytes, sequence numbers 7..7>"
