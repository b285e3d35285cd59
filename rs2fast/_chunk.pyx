"""MediaChunk, zero-copy chunk splitting and the checksum kernels (CRC-32C, SHA-256)."""
cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_FillInfo, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.datetime cimport (import_datetime, timedelta_days, timedelta_microseconds,
                               timedelta_new, timedelta_seconds)
from cpython.list cimport PyList_New
from cpython.memoryview cimport PyMemoryView_FromObject
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_RawFree, PyMem_RawMalloc
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_GET_ITEM
from cpython.unicode cimport (Py_UCS1, PyUnicode_1BYTE_DATA, PyUnicode_1BYTE_KIND, PyUnicode_GET_LENGTH,
                              PyUnicode_KIND, PyUnicode_New)
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memchr, memcmp, memcpy

from rs2fast._args cimport (flag_arg, int64_arg, int_arg, priority_code_arg, type_code_arg,
                            uint64_arg)
from rs2fast._codes cimport TYPE_AUDIO, TYPE_VIDEO_B_FRAME
from rs2fast._cpython cimport (PyMemoryViewObject, PySequence_Fast, PySequence_Fast_GET_SIZE,
                               PySequence_Fast_ITEMS, _Py_MEMORYVIEW_RELEASED, incref_ptr,
                               list_set_item_owned, long_as_long_overflow_ptr,
                               long_check_exact_ptr)

import datetime
import hashlib
import json

from rs2fast._enums import ChunkType, MediaPriority

cdef extern from "_crc32c.h" nogil:
    int RS2_CRC_PORTABLE
    int RS2_CRC_SSE42
    int RS2_CRC_SSE42_CLMUL
    int RS2_CRC_AVX512
    int rs2_crc_best
    void rs2_crc32c_init()
    uint32_t rs2_crc32c(uint32_t crc, const uint8_t* p, size_t n)
    uint32_t rs2_crc32c_mode(uint32_t crc, const uint8_t* p, size_t n, int mode)
    uint32_t rs2_crc_shift(uint32_t crc, uint64_t nbytes)

cdef extern from *:
    """
    #ifndef RS2FAST_DEBUG
    #define RS2FAST_DEBUG 0
    #endif
    """
    const int _DEBUG_BUILD "RS2FAST_DEBUG"   # the C macro setup.py passes

import_datetime()
rs2_crc32c_init()

cdef tuple _CHUNK_TYPES = tuple(ChunkType)
cdef tuple _PRIORITIES = (None,) + tuple(sorted(MediaPriority))
cdef tuple _TYPE_NAMES = tuple(t.rs2_name for t in ChunkType)
cdef tuple _PRIORITY_NAMES = (None,) + tuple(p.rs2_name for p in sorted(MediaPriority))
cdef dict _TYPE_BY_NAME = {t.rs2_name: int(t) for t in ChunkType}
cdef dict _PRIORITY_BY_NAME = {p.rs2_name: int(p) for p in MediaPriority}
cdef object _timedelta = datetime.timedelta
cdef object _ZERO = datetime.timedelta(0)
cdef object _sha256 = hashlib.sha256
cdef object _encode_str = json.encoder.encode_basestring   # JSON string literal, no \u escapes
cdef tuple _BYTE_INTS = tuple(range(256))
cdef frozenset _FIELDS = frozenset(("stream_id", "sequence_number", "data", "chunk_type", "priority",
                                    "timestamp", "timestamp_ns", "is_final", "checksum"))
cdef object _UINT64_MAX = 0xFFFFFFFFFFFFFFFF
cdef object _INT64_MIN = -(2**63)
cdef object _INT64_MAX = 2**63 - 1
cdef enum:
    _NOGIL_BYTES = 16384         # release the GIL only for at least this much CRC work

cdef Py_ssize_t _debug_counts[1]   # [0]: live _BufferOwner objects (RS2FAST_DEBUG builds)
_debug_counts[0] = 0

# Lower-case hex digit values (-1 for anything else) and the decimal spellings of 0..255.
cdef signed char _HEX_VALUE[256]
cdef char _HEX_DIGITS[17]
cdef char _DEC_TEXT[256][4]
cdef uint8_t _DEC_LEN[256]


cdef void _init_tables() noexcept:
    cdef int i
    cdef bytes text
    for i in range(256):
        _HEX_VALUE[i] = -1
    for i in range(10):
        _HEX_VALUE[48 + i] = i
    for i in range(6):
        _HEX_VALUE[97 + i] = 10 + i
    memcpy(_HEX_DIGITS, b"0123456789abcdef", 17)
    for i in range(256):
        text = str(i).encode()
        _DEC_LEN[i] = len(text)
        memcpy(_DEC_TEXT[i], <const char*>text, len(text))

_init_tables()


# --- validation helpers (the Python boundary) ------------------------------------------------------

cdef int64_t _timestamp_ns(object value) except? -1:
    cdef int64_t total
    if not isinstance(value, _timedelta):
        raise TypeError(f"timestamp must be a datetime.timedelta, not {type(value).__name__}")
    total = <int64_t>timedelta_days(value) * 86400 + timedelta_seconds(value)
    if -9223372036 <= total <= 9223372035:    # certainly inside int64 nanoseconds
        return total * 1_000_000_000 + <int64_t>timedelta_microseconds(value) * 1000
    ns = <object>total * 1_000_000_000 + timedelta_microseconds(value) * 1000
    if ns < _INT64_MIN or ns > _INT64_MAX:
        raise ValueError(f"timestamp {value} is outside the +-292-year nanosecond range")
    return <int64_t>ns


cdef object _checked_checksum(object value):
    if value is None or type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)      # an exact str copy of a str subclass
    raise TypeError(f"checksum must be a str or None, not {type(value).__name__}")


cdef str _checked_stream_id(object value):
    if type(value) is str:
        return <str>value
    if isinstance(value, str):
        return str.__str__(value)      # an exact str copy of a str subclass
    raise TypeError(f"stream_id must be a str, not {type(value).__name__}")


cdef int _algorithm_code(object algorithm) except -1:
    if not isinstance(algorithm, str):
        raise TypeError(f"algorithm must be a str ('crc32c' or 'sha256'), not {type(algorithm).__name__}")
    if algorithm == "crc32c":
        return CHECKSUM_CRC32C
    if algorithm == "sha256":
        return CHECKSUM_SHA256
    raise ValueError(f"algorithm must be 'crc32c' or 'sha256', not {algorithm!r}")


cdef bytes _data_bytes(object data):
    """`data` as an exact bytes object: bytes as is, any other bytes-like object copied (C order)."""
    if type(data) is bytes:
        return <bytes>data
    if isinstance(data, (str, int)) or data is None:
        raise TypeError(f"data must be a bytes-like object, not {type(data).__name__}")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"data must be a bytes-like object, not {type(data).__name__}") from None
    return view.tobytes()            # also flattens non-contiguous buffers, in C order


cdef int get_buffer(object data, Py_buffer* view, str name) except -1:
    """Export a simple (C-contiguous, byte-addressed) buffer of `data`, with clear errors."""
    if isinstance(data, str):
        raise TypeError(f"{name} must be a bytes-like object, not str")
    try:
        PyObject_GetBuffer(data, view, PyBUF_SIMPLE)
    except TypeError:
        raise TypeError(f"{name} must be a bytes-like object, not {type(data).__name__}") from None
    except (ValueError, BufferError) as error:
        raise ValueError(f"{name} must be a C-contiguous buffer ({error})") from None
    return 0


# --- checksum strings --------------------------------------------------------------------------------

cdef bint _all_hex(const Py_UCS1* s, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        if _HEX_VALUE[s[i]] < 0:
            return False
    return True


cdef int checksum_kind(object checksum) noexcept:
    cdef Py_ssize_t n
    cdef const Py_UCS1* s
    if not isinstance(checksum, str) or PyUnicode_KIND(checksum) != PyUnicode_1BYTE_KIND:
        return -1
    n = PyUnicode_GET_LENGTH(checksum)
    s = PyUnicode_1BYTE_DATA(checksum)
    if n == 64:
        return CHECKSUM_SHA256 if _all_hex(s, 64) else -1
    if n == 15 and memcmp(s, b"crc32c:", 7) == 0 and _all_hex(s + 7, 8):
        return CHECKSUM_CRC32C
    return -1


cdef uint32_t crc32c_parse(str checksum) noexcept:
    cdef const Py_UCS1* s = PyUnicode_1BYTE_DATA(checksum) + 7
    cdef uint32_t value = 0
    cdef int i
    for i in range(8):
        value = (value << 4) | <uint32_t>_HEX_VALUE[s[i]]
    return value


cdef str crc32c_string(uint32_t value):
    cdef str text = PyUnicode_New(15, 127)
    cdef Py_UCS1* out = PyUnicode_1BYTE_DATA(text)
    cdef int i
    memcpy(out, b"crc32c:", 7)
    for i in range(8):
        out[14 - i] = _HEX_DIGITS[value & 0xF]
        value >>= 4
    return text


cdef uint32_t crc32c_update(uint32_t crc, const uint8_t* data, size_t length) noexcept nogil:
    return rs2_crc32c(crc, data, length)


cdef inline uint32_t _crc_maybe_nogil(const uint8_t* p, size_t n) noexcept:
    cdef uint32_t result
    if n < _NOGIL_BYTES:
        return rs2_crc32c(0, p, n)
    with nogil:
        result = rs2_crc32c(0, p, n)
    return result


cdef str _checksum_of(MediaChunk chunk, int algorithm):
    if algorithm == CHECKSUM_CRC32C:
        return crc32c_string(_crc_maybe_nogil(chunk.ptr, <size_t>chunk.length))
    return _sha256(chunk).hexdigest()


cdef bint _checksum_ok(MediaChunk chunk, int kind) except -1:
    """Does a well-formed checksum string of `kind` match the data? (hashlib drops the GIL itself.)"""
    if kind == CHECKSUM_CRC32C:
        return _crc_maybe_nogil(chunk.ptr, <size_t>chunk.length) == crc32c_parse(chunk.checksum_str)
    return _sha256(chunk).hexdigest() == chunk.checksum_str


# --- JSON (RS2's serde shape) ---------------------------------------------------------------------

include "_chunk_json.pxi"


# --- MediaChunk --------------------------------------------------------------------------------------

@cython.final
@cython.auto_pickle(False)
cdef class _BufferOwner:
    """Holds one exported buffer of a foreign object for as long as chunks point into it."""
    cdef Py_buffer view
    cdef bint held

    def __cinit__(self, object source):
        get_buffer(source, &self.view, "data")
        self.held = True
        if _DEBUG_BUILD:
            _debug_counts[0] += 1

    def __dealloc__(self):
        if self.held:
            PyBuffer_Release(&self.view)
            self.held = False
            if _DEBUG_BUILD:
                _debug_counts[0] -= 1



# Payloads up to this size are handed out by `data` as a bytes copy: allocating and copying them costs
# less than making a memoryview (two objects for the collector to track).
cdef enum:
    _SMALL_DATA = 4096


@cython.final
@cython.freelist(64)
@cython.auto_pickle(False)
cdef class _ChunkView:
    """The exporter behind MediaChunk.data's memoryview: the chunk's bytes, kept alive through the
    chunk's owner (not the chunk, so a chunk and its cached view form no reference cycle)."""
    cdef object owner
    cdef const uint8_t* ptr
    cdef Py_ssize_t length

    def __getbuffer__(self, Py_buffer* buffer, int flags):
        PyBuffer_FillInfo(buffer, self, <void*>self.ptr, self.length, 1, flags)

    def __releasebuffer__(self, Py_buffer* buffer):
        pass


cdef MediaChunk make_chunk(str stream_id, uint64_t seq, object owner, const uint8_t* ptr,
                           Py_ssize_t length, int type_code, int priority_code,
                           int64_t timestamp_ns, bint final, object checksum):
    cdef MediaChunk chunk = MediaChunk.__new__(MediaChunk)
    _set_fields(chunk, stream_id, seq, owner, ptr, length, type_code, priority_code, timestamp_ns,
                final, checksum)
    return chunk


cdef inline void _set_fields(MediaChunk chunk, str stream_id, uint64_t seq, object owner,
                             const uint8_t* ptr, Py_ssize_t length, int type_code, int priority_code,
                             int64_t timestamp_ns, bint final, object checksum) noexcept:
    chunk.stream_id = stream_id
    chunk.seq = seq
    chunk.owner = owner
    chunk.ptr = ptr
    chunk.length = length
    chunk.type_code = type_code
    chunk.priority_code = priority_code
    chunk.timestamp_ns = timestamp_ns
    chunk.final = final
    chunk.checksum_str = checksum


cdef MediaChunk copy_chunk(MediaChunk source, object checksum):
    return make_chunk(source.stream_id, source.seq, source.owner, source.ptr, source.length,
                      source.type_code, source.priority_code, source.timestamp_ns, source.final,
                      checksum)


def _chunk_from_state(stream_id, sequence_number, data, chunk_type, priority, timestamp_ns, is_final,
                      checksum):
    """Unpickling helper: rebuild (and re-validate) a MediaChunk from its eight field values."""
    return MediaChunk(stream_id, sequence_number, data, chunk_type, priority,
                      is_final=is_final, checksum=checksum, timestamp_ns=timestamp_ns)


# Not tracked by the cycle collector: a chunk refers only to strings and to the owner of its bytes,
# so it takes part in no reference cycle (and streams of millions of chunks trigger no collections).
@cython.final
@cython.no_gc
cdef class MediaChunk:
    """MediaChunk(stream_id, sequence_number, data, chunk_type, priority=None, timestamp=None, is_final=False, checksum=None, *, timestamp_ns=None)
--

    One piece of a media stream (RS2's MediaChunk): eight value fields, immutable.

    `data` is kept as given when it is exactly `bytes`; any other bytes-like object is copied (in C
    order, so non-contiguous buffers are flattened), so later changes to a mutable buffer never reach
    the chunk. `priority` defaults to the chunk type's default priority. `timestamp` may be negative;
    `timestamp_ns` (keyword) sets it in nanoseconds instead. Chunks from `split_buffer` are zero-copy
    views over one input buffer.
    """

    def __cinit__(self):
        # Safe defaults for a chunk made by MediaChunk.__new__ without __init__ (make_chunk overwrites).
        self.stream_id = ""
        self.ptr = <const uint8_t*>b""
        self.priority_code = 2

    def __init__(self, stream_id, sequence_number, data, chunk_type, priority=None,
                 timestamp=None, is_final=False, checksum=None, *, timestamp_ns=None):
        cdef bytes payload
        if self.owner is not None:
            raise TypeError("MediaChunk is immutable; use replace() to derive a new chunk")
        sid = _checked_stream_id(stream_id)
        seq = uint64_arg(sequence_number, "sequence_number")
        payload = _data_bytes(data)
        type_code = type_code_arg(chunk_type, "chunk_type")
        priority_code = (priority_code_arg(priority, "priority") if priority is not None
                         else default_priority_code(type_code))
        if timestamp_ns is None:
            ts = 0 if timestamp is None else _timestamp_ns(timestamp)
        elif timestamp is not None:
            raise TypeError("give timestamp or timestamp_ns, not both")
        else:
            ts = int64_arg(timestamp_ns, "timestamp_ns")
        final = flag_arg(is_final, "is_final")
        _set_fields(self, sid, seq, payload, <const uint8_t*>PyBytes_AS_STRING(payload),
                    PyBytes_GET_SIZE(payload), type_code, priority_code, ts, final,
                    _checked_checksum(checksum))

    @property
    def sequence_number(self):
        """Position of the chunk in its stream (0 .. 2**64-1)."""
        return self.seq

    @property
    def data(self):
        """The payload: the `bytes` object itself when the chunk owns one whole; else, for chunks of
        up to 4 KiB, a bytes copy (cheaper to make than a view), or for larger ones a read-only
        memoryview of the chunk's bytes (zero-copy); either is made on first access and kept, so
        repeated reads are cheap. The chunk itself is a read-only buffer too: bytes(chunk),
        memoryview(chunk), hashlib.sha256(chunk), f.write(chunk) and len(chunk) work on it."""
        cdef _ChunkView exporter
        if type(self.owner) is bytes and PyBytes_GET_SIZE(self.owner) == self.length:
            return self.owner
        view = self.data_view
        if view is not None and (type(view) is bytes or not
                                 (<PyMemoryViewObject*>view).flags & _Py_MEMORYVIEW_RELEASED):
            return view
        if self.length <= _SMALL_DATA:
            view = PyBytes_FromStringAndSize(<const char*>self.ptr, self.length)
        else:
            exporter = <_ChunkView>_ChunkView.__new__(_ChunkView)
            exporter.owner = self.owner
            exporter.ptr = self.ptr
            exporter.length = self.length
            view = PyMemoryView_FromObject(exporter)
        self.data_view = view
        return view

    @property
    def chunk_type(self):
        """The ChunkType of the payload."""
        return _CHUNK_TYPES[self.type_code]

    @property
    def priority(self):
        """The MediaPriority used by priority queues."""
        return _PRIORITIES[self.priority_code]

    @property
    def timestamp(self):
        """Presentation time as a datetime.timedelta (whole microseconds, rounded down; see
        timestamp_ns for the exact value)."""
        cdef int64_t us = self.timestamp_ns // 1000
        if self.timestamp_ns % 1000 < 0:            # C division truncates; we want the floor
            us -= 1
        cdef int64_t secs = us // 1_000_000
        cdef int64_t rem = us % 1_000_000
        if rem < 0:
            rem += 1_000_000
            secs -= 1
        cdef int64_t days = secs // 86400
        cdef int64_t day_secs = secs % 86400
        if day_secs < 0:
            day_secs += 86400
            days -= 1
        return timedelta_new(<int>days, <int>day_secs, <int>rem)

    @property
    def timestamp_ns(self):
        """Presentation time in integer nanoseconds (may be negative)."""
        return self.timestamp_ns

    @property
    def is_final(self):
        """True on the last chunk of a stream."""
        return self.final

    @property
    def checksum(self):
        """Self-describing checksum string (64 hex = SHA-256, "crc32c:"+8 hex) or None."""
        return self.checksum_str

    def __len__(self):
        return self.length

    def __bool__(self):
        return True                      # a record, not a container: empty data is still a chunk

    def __getbuffer__(self, Py_buffer* buffer, int flags):
        PyBuffer_FillInfo(buffer, self, <void*>self.ptr, self.length, 1, flags)

    def __releasebuffer__(self, Py_buffer* buffer):
        pass

    def __eq__(self, other):
        if not isinstance(other, MediaChunk):
            return NotImplemented
        cdef MediaChunk o = <MediaChunk>other
        return (self.seq == o.seq and self.length == o.length and self.type_code == o.type_code
                and self.priority_code == o.priority_code and self.timestamp_ns == o.timestamp_ns
                and self.final == o.final and self.stream_id == o.stream_id
                and self.checksum_str == o.checksum_str
                and (self.ptr == o.ptr or self.length == 0
                     or memcmp(self.ptr, o.ptr, <size_t>self.length) == 0))

    __hash__ = None

    def __repr__(self):
        return (f"MediaChunk(stream_id={self.stream_id!r}, sequence_number={self.seq}, "
                f"data=<{self.length} bytes>, chunk_type={self.chunk_type.name}, "
                f"priority={self.priority.name}, timestamp_ns={self.timestamp_ns}, "
                f"is_final={bool(self.final)}, checksum={self.checksum_str!r})")

    def __reduce__(self):
        data = self.data
        if type(data) is not bytes:
            data = PyBytes_FromStringAndSize(<const char*>self.ptr, self.length)
        return (_chunk_from_state, (self.stream_id, self.seq, data, self.type_code,
                                    self.priority_code, self.timestamp_ns, bool(self.final),
                                    self.checksum_str))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def replace(self, **changes):
        """A new chunk with the given fields changed (validated like the constructor).

        Unchanged data is shared, not copied. Changing `chunk_type` keeps the priority unless
        `priority` is also given (`priority=None` picks the new type's default)."""
        cdef MediaChunk chunk
        unknown = changes.keys() - _FIELDS
        if unknown:
            raise TypeError(f"replace() got unexpected field(s): {', '.join(sorted(unknown))}")
        chunk = copy_chunk(self, self.checksum_str)
        if "stream_id" in changes:
            chunk.stream_id = _checked_stream_id(changes["stream_id"])
        if "sequence_number" in changes:
            chunk.seq = uint64_arg(changes["sequence_number"], "sequence_number")
        if "data" in changes:
            payload = _data_bytes(changes["data"])
            chunk.ptr = <const uint8_t*>PyBytes_AS_STRING(payload)
            chunk.length = PyBytes_GET_SIZE(payload)
            chunk.owner = payload
        if "chunk_type" in changes:
            chunk.type_code = type_code_arg(changes["chunk_type"], "chunk_type")
        if "priority" in changes:
            priority = changes["priority"]
            chunk.priority_code = (priority_code_arg(priority, "priority") if priority is not None
                                   else default_priority_code(chunk.type_code))
        if "timestamp" in changes and "timestamp_ns" in changes:
            raise TypeError("give timestamp or timestamp_ns, not both")
        if "timestamp" in changes:
            chunk.timestamp_ns = _timestamp_ns(changes["timestamp"])
        if "timestamp_ns" in changes:
            chunk.timestamp_ns = int64_arg(changes["timestamp_ns"], "timestamp_ns")
        if "is_final" in changes:
            chunk.final = flag_arg(changes["is_final"], "is_final")
        if "checksum" in changes:
            chunk.checksum_str = _checked_checksum(changes["checksum"])
        return chunk

    # --- RS2's serde JSON shape ----------------------------------------------------------------

    def to_dict(self):
        """The chunk as RS2's serde JSON object (data as a list of ints; timestamp {secs, nanos}).
        ValueError for a negative timestamp, which RS2 cannot represent."""
        secs, nanos = _secs_nanos(self.timestamp_ns)
        return {
            "stream_id": self.stream_id,
            "sequence_number": self.seq,
            "data": _byte_list(self.ptr, self.length),
            "chunk_type": _TYPE_NAMES[self.type_code],
            "priority": _PRIORITY_NAMES[self.priority_code],
            "timestamp": {"secs": secs, "nanos": nanos},
            "is_final": bool(self.final),
            "checksum": self.checksum_str,
        }

    def to_json(self):
        """Compact JSON text, byte-for-byte what json.dumps(to_dict(), separators=(",", ":"),
        ensure_ascii=False) gives (and what RS2's serde_json writes)."""
        secs, nanos = _secs_nanos(self.timestamp_ns)
        return "".join((
            '{"stream_id":', _encode_str(self.stream_id),
            ',"sequence_number":', str(self.seq),
            ',"data":', _json_byte_array(self.ptr, self.length),
            ',"chunk_type":"', _TYPE_NAMES[self.type_code],
            '","priority":"', _PRIORITY_NAMES[self.priority_code],
            '","timestamp":{"secs":', str(secs), ',"nanos":', str(nanos),
            '},"is_final":', "true" if self.final else "false",
            ',"checksum":', "null" if self.checksum_str is None else _encode_str(self.checksum_str),
            '}'))

    @staticmethod
    def from_dict(mapping):
        """Build a chunk from RS2's serde JSON object. Missing fields -> ValueError naming them;
        extra fields are ignored; mistyped fields -> TypeError/ValueError naming them."""
        return _chunk_from_mapping(mapping, None)

    @staticmethod
    def from_json(text):
        """Parse RS2's JSON text (str, bytes or bytearray) into a chunk; see from_dict for the rules.
        The byte array is parsed in C; the rest of the object goes through json.loads."""
        return _chunk_from_json(text)

    # --- checksums -------------------------------------------------------------------------------

    def compute_checksum(self, algorithm="sha256"):
        """The checksum string of the data: "crc32c" -> "crc32c:" + 8 hex, "sha256" -> 64 hex."""
        return _checksum_of(self, _algorithm_code(algorithm))

    def with_checksum(self, algorithm="sha256"):
        """A new chunk equal to this one but carrying a freshly computed checksum."""
        cdef str checksum = _checksum_of(self, _algorithm_code(algorithm))
        return copy_chunk(self, checksum)

    def checksum_matches(self):
        """True when there is no checksum or it matches the data; False on a mismatch or a malformed
        checksum string (upper-case hex included, as in RS2)."""
        if self.checksum_str is None:
            return True
        kind = checksum_kind(self.checksum_str)
        return kind >= 0 and _checksum_ok(self, kind)


# --- module-level checksum functions ----------------------------------------------------------------

include "_chunk_checksums.pxi"


# --- zero-copy splitting ------------------------------------------------------------------------------

include "_chunk_split.pxi"


# --- batch kernels for the processor's worker threads --------------------------------------------------

include "_chunk_batch.pxi"
