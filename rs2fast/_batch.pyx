"""ChunkBatch: an immutable sequence of MediaChunks with numpy columns of their fields.

The columns are built on first use by one C loop over the chunks' fields into one packed buffer;
each column is a read-only numpy view of it, made when first asked for and cached, so a consumer
can act on a whole window (sums, sequence checks, filters) without touching each chunk in Python.
"""
cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t, uintptr_t

from rs2fast._chunk cimport CHECKSUM_CRC32C, CHECKSUM_SHA256, MediaChunk, checksum_kind, crc32c_parse

from collections.abc import Sequence

cdef object _frombuffer = None   # numpy.frombuffer, imported on the first column asked for


cdef object _view(object buffer, str dtype, Py_ssize_t count, Py_ssize_t offset):
    # A read-only numpy array over `buffer` (numpy is imported only once columns are used).
    global _frombuffer
    if _frombuffer is None:
        from numpy import frombuffer
        _frombuffer = frombuffer
    return _frombuffer(buffer, dtype, count, offset)

# Packed column layout: byte offset of each column in units of n (the batch length).
cdef enum:
    _SEQUENCE_AT = 0
    _SIZE_AT = 8
    _TIMESTAMP_AT = 16
    _TYPE_AT = 24
    _PRIORITY_AT = 25
    _PACKED_BYTES = 26


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


cdef str _checksum_name(object checksum):
    if checksum is None:
        return "no checksum"
    if checksum_kind(checksum) == CHECKSUM_SHA256:
        return "a SHA-256 checksum"
    return f"a malformed checksum {checksum!r}"


@cython.final
cdef class ChunkBatch:
    """ChunkBatch(chunks=())
--

An immutable sequence of MediaChunks plus numpy columns of their fields.

    `ChunkBatch(chunks)` takes any iterable of MediaChunk. Indexing (negative indexes too),
    slicing (which gives a ChunkBatch), `len()` and iteration behave as on a list, at list speed;
    a batch equals another batch or a list holding equal chunks in the same order. The columns
    (`sequence_numbers`, `chunk_types`, `priorities`, `sizes`, `timestamps_ns`, `crc32c`) are
    read-only numpy arrays built on first access and cached.
    """

    def __cinit__(self):
        self.chunks = []

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
        # One pass over the chunks packs every field but the CRC into one bytes object (8-byte
        # aligned): seq u64[n], size i64[n], timestamp i64[n], type u8[n], priority u8[n].
        cdef Py_ssize_t i, n = PyList_GET_SIZE(self.chunks)
        cdef MediaChunk chunk
        cdef int64_t total = 0
        cdef bytes packed = PyBytes_FromStringAndSize(NULL, n * _PACKED_BYTES + 7)
        cdef char* base = PyBytes_AS_STRING(packed)
        cdef Py_ssize_t start = <Py_ssize_t>(-<uintptr_t>base & 7)
        cdef uint64_t* seqs = <uint64_t*>(base + start)
        cdef int64_t* sizes = <int64_t*>(base + start + _SIZE_AT * n)
        cdef int64_t* stamps = <int64_t*>(base + start + _TIMESTAMP_AT * n)
        cdef uint8_t* types = <uint8_t*>(base + start + _TYPE_AT * n)
        cdef uint8_t* prios = <uint8_t*>(base + start + _PRIORITY_AT * n)
        for i in range(n):
            chunk = _chunk_at(self.chunks, i)
            seqs[i] = chunk.seq
            sizes[i] = chunk.length
            stamps[i] = chunk.timestamp_ns
            types[i] = <uint8_t>chunk.type_code
            prios[i] = <uint8_t>chunk.priority_code
            total += chunk.length
        self.packed = packed
        self.packed_start = start
        self.total = total
        return 0

    cdef object column(self, str dtype, Py_ssize_t at):
        # A read-only numpy view (zero-copy) of the packed column that starts at `at` * n bytes.
        cdef Py_ssize_t n = PyList_GET_SIZE(self.chunks)
        if self.packed is None:
            self.build_columns()
        return _view(self.packed, dtype, n, self.packed_start + at * n)

    @property
    def sequence_numbers(self):
        """Sequence numbers (numpy uint64, read-only)."""
        if self.sequence_col is None:
            self.sequence_col = self.column("=u8", _SEQUENCE_AT)
        return self.sequence_col

    @property
    def chunk_types(self):
        """ChunkType values (numpy uint8, read-only)."""
        if self.type_col is None:
            self.type_col = self.column("=u1", _TYPE_AT)
        return self.type_col

    @property
    def priorities(self):
        """MediaPriority values (numpy uint8, read-only)."""
        if self.priority_col is None:
            self.priority_col = self.column("=u1", _PRIORITY_AT)
        return self.priority_col

    @property
    def sizes(self):
        """Payload sizes in bytes (numpy int64, read-only)."""
        if self.size_col is None:
            self.size_col = self.column("=i8", _SIZE_AT)
        return self.size_col

    @property
    def timestamps_ns(self):
        """Timestamps in nanoseconds (numpy int64, read-only)."""
        if self.timestamp_col is None:
            self.timestamp_col = self.column("=i8", _TIMESTAMP_AT)
        return self.timestamp_col

    @property
    def total_bytes(self):
        """Sum of the payload sizes in bytes."""
        if self.packed is None:
            self.build_columns()
        return self.total

    @property
    def crc32c(self):
        """CRC-32C values of the chunks' "crc32c:..." checksums (numpy uint32, read-only).
        ValueError when a chunk carries another algorithm, a malformed checksum or none."""
        cdef Py_ssize_t i, n, start
        cdef MediaChunk chunk
        cdef bytes packed
        cdef char* base
        cdef uint32_t* crcs
        if self.crc_col is not None:
            return self.crc_col
        n = PyList_GET_SIZE(self.chunks)
        packed = PyBytes_FromStringAndSize(NULL, n * 4 + 3)
        base = PyBytes_AS_STRING(packed)
        start = <Py_ssize_t>(-<uintptr_t>base & 3)
        crcs = <uint32_t*>(base + start)
        for i in range(n):
            chunk = _chunk_at(self.chunks, i)
            if checksum_kind(chunk.checksum_str) != CHECKSUM_CRC32C:
                raise ValueError(f"crc32c needs a CRC-32C checksum on every chunk; chunk {i} "
                                 f"(sequence number {chunk.seq}) has "
                                 f"{_checksum_name(chunk.checksum_str)}")
            crcs[i] = crc32c_parse(<str>chunk.checksum_str)
        self.crc_col = _view(packed, "=u4", n, start)
        return self.crc_col

Sequence.register(ChunkBatch)
