"""ChunkBatch: an immutable sequence of MediaChunks with numpy columns of their fields.

The columns are built on first use by one C loop over the chunks' fields and cached; they are
read-only numpy arrays, so a consumer can act on a whole window (sums, sequence checks, filters)
without touching each chunk in Python.
"""
cimport cython
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

from rs2fast._chunk cimport CHECKSUM_CRC32C, CHECKSUM_SHA256, MediaChunk, checksum_kind, crc32c_parse

import numpy as np
from collections.abc import Sequence


cdef int _check_items(list chunks) except -1:
    cdef Py_ssize_t i
    for i in range(PyList_GET_SIZE(chunks)):
        item = <object>PyList_GET_ITEM(chunks, i)
        if type(item) is not MediaChunk:
            raise TypeError(f"ChunkBatch item {i} must be a MediaChunk, not {type(item).__name__}")
    return 0


cdef ChunkBatch batch_from_list(list chunks):
    cdef ChunkBatch batch = ChunkBatch.__new__(ChunkBatch)
    _check_items(chunks)
    batch.chunks = chunks
    return batch


cdef inline MediaChunk _chunk_at(list chunks, Py_ssize_t i):
    # A C read of item i, guarded: a list handed to _from_list and changed later raises, never
    # reaches the C fields of another type.
    item = <object>PyList_GET_ITEM(chunks, i)
    if type(item) is not MediaChunk:
        raise RuntimeError("the list given to ChunkBatch._from_list was changed afterwards")
    return <MediaChunk>item


cdef object _read_only(object array):
    array.flags.writeable = False
    return array


cdef str _checksum_name(object checksum):
    kind = checksum_kind(checksum)
    if checksum is None:
        return "no checksum"
    if kind == CHECKSUM_SHA256:
        return "a SHA-256 checksum"
    return f"a malformed checksum {checksum!r}"


@cython.final
cdef class ChunkBatch:
    """An immutable sequence of MediaChunks plus numpy columns of their fields.

    `ChunkBatch(chunks)` takes any iterable of MediaChunk. Indexing (negative indexes too),
    slicing (which gives a ChunkBatch), `len()` and iteration behave as on a list, at list speed;
    a batch equals another batch or a list holding equal chunks in the same order. The columns
    (`sequence_numbers`, `chunk_types`, `priorities`, `sizes`, `timestamps_ns`, `crc32c`) are
    read-only numpy arrays built on first access and cached.
    """

    def __cinit__(self):
        self.chunks = []
        self.total = -1

    def __init__(self, chunks=()):
        cdef list items
        if isinstance(chunks, ChunkBatch):
            items = (<ChunkBatch>chunks).chunks     # immutable: share the list
        else:
            try:
                iterator = iter(chunks)
            except TypeError:
                raise TypeError(f"chunks must be an iterable of MediaChunk, not "
                                f"{type(chunks).__name__}") from None
            items = list(iterator)
            _check_items(items)
        self.chunks = items

    @classmethod
    def _from_list(cls, list chunks):
        """A batch over `chunks` without copying the list, which the batch owns from now on
        (callers must not change it). For rs2fast's own producers."""
        return batch_from_list(chunks)

    # --- sequence ------------------------------------------------------------------------------

    def __len__(self):
        return PyList_GET_SIZE(self.chunks)

    def __iter__(self):
        return iter(self.chunks)

    def __reversed__(self):
        return reversed(self.chunks)

    def __getitem__(self, index):
        cdef Py_ssize_t i, n
        if isinstance(index, slice):
            return batch_from_list(self.chunks[index])
        try:
            i = index
        except OverflowError:
            raise IndexError("ChunkBatch index out of range") from None
        except TypeError:
            raise TypeError(f"ChunkBatch indices must be integers or slices, not "
                            f"{type(index).__name__}") from None
        n = PyList_GET_SIZE(self.chunks)
        if i < 0:
            i += n
        if i < 0 or i >= n:
            raise IndexError("ChunkBatch index out of range")
        return <object>PyList_GET_ITEM(self.chunks, i)

    def __contains__(self, item):
        return item in self.chunks

    def index(self, item, start=0, stop=None):
        """Position of the first chunk equal to `item` (ValueError if there is none)."""
        if stop is None:
            return self.chunks.index(item, start)
        return self.chunks.index(item, start, stop)

    def count(self, item):
        """How many chunks equal `item`."""
        return self.chunks.count(item)

    def __eq__(self, other):
        if isinstance(other, ChunkBatch):
            return self.chunks == (<ChunkBatch>other).chunks
        if isinstance(other, list):
            return self.chunks == other
        return NotImplemented

    __hash__ = None

    def to_list(self):
        """The chunks as a new list."""
        return list(self.chunks)

    def __reduce__(self):
        return (ChunkBatch, (self.chunks,))

    def __repr__(self):
        cdef Py_ssize_t n = PyList_GET_SIZE(self.chunks)
        cdef MediaChunk first, last
        if n == 0:
            return "<ChunkBatch of 0 chunks>"
        first = _chunk_at(self.chunks, 0)
        last = _chunk_at(self.chunks, n - 1)
        return (f"<ChunkBatch of {n} chunk{'s' if n != 1 else ''}, {self.total_bytes} bytes, "
                f"sequence numbers {first.seq}..{last.seq}>")

    # --- columns -------------------------------------------------------------------------------

    cdef int build_columns(self) except -1:
        # One pass over the chunks fills every column except crc32c (which may not apply).
        cdef Py_ssize_t i, n = PyList_GET_SIZE(self.chunks)
        cdef MediaChunk chunk
        cdef int64_t total = 0
        seq_arr = np.empty(n, dtype=np.uint64)
        type_arr = np.empty(n, dtype=np.uint8)
        prio_arr = np.empty(n, dtype=np.uint8)
        size_arr = np.empty(n, dtype=np.int64)
        ts_arr = np.empty(n, dtype=np.int64)
        cdef uint64_t[::1] seqs = seq_arr
        cdef uint8_t[::1] types = type_arr
        cdef uint8_t[::1] prios = prio_arr
        cdef int64_t[::1] sizes = size_arr
        cdef int64_t[::1] stamps = ts_arr
        for i in range(n):
            chunk = _chunk_at(self.chunks, i)
            seqs[i] = chunk.seq
            types[i] = <uint8_t>chunk.type_code
            prios[i] = <uint8_t>chunk.priority_code
            sizes[i] = chunk.length
            stamps[i] = chunk.timestamp_ns
            total += chunk.length
        self.sequence_col = _read_only(seq_arr)
        self.type_col = _read_only(type_arr)
        self.priority_col = _read_only(prio_arr)
        self.size_col = _read_only(size_arr)
        self.timestamp_col = _read_only(ts_arr)
        self.total = total
        return 0

    @property
    def sequence_numbers(self):
        """Sequence numbers (numpy uint64, read-only)."""
        if self.sequence_col is None:
            self.build_columns()
        return self.sequence_col

    @property
    def chunk_types(self):
        """ChunkType values (numpy uint8, read-only)."""
        if self.type_col is None:
            self.build_columns()
        return self.type_col

    @property
    def priorities(self):
        """MediaPriority values (numpy uint8, read-only)."""
        if self.priority_col is None:
            self.build_columns()
        return self.priority_col

    @property
    def sizes(self):
        """Payload sizes in bytes (numpy int64, read-only)."""
        if self.size_col is None:
            self.build_columns()
        return self.size_col

    @property
    def timestamps_ns(self):
        """Timestamps in nanoseconds (numpy int64, read-only)."""
        if self.timestamp_col is None:
            self.build_columns()
        return self.timestamp_col

    @property
    def total_bytes(self):
        """Sum of the payload sizes in bytes."""
        if self.total < 0:
            self.build_columns()
        return self.total

    @property
    def crc32c(self):
        """CRC-32C values of the chunks' "crc32c:..." checksums (numpy uint32, read-only).
        ValueError when a chunk carries another algorithm, a malformed checksum or none."""
        cdef Py_ssize_t i, n
        cdef MediaChunk chunk
        if self.crc_col is not None:
            return self.crc_col
        n = PyList_GET_SIZE(self.chunks)
        crc_arr = np.empty(n, dtype=np.uint32)
        cdef uint32_t[::1] crcs = crc_arr
        for i in range(n):
            chunk = _chunk_at(self.chunks, i)
            if checksum_kind(chunk.checksum_str) != CHECKSUM_CRC32C:
                raise ValueError(f"crc32c needs a CRC-32C checksum on every chunk; chunk {i} "
                                 f"(sequence number {chunk.seq}) has "
                                 f"{_checksum_name(chunk.checksum_str)}")
            crcs[i] = crc32c_parse(<str>chunk.checksum_str)
        self.crc_col = _read_only(crc_arr)
        return self.crc_col


Sequence.register(ChunkBatch)
