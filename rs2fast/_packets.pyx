"""Demuxed packets to MediaChunks in C: the per-packet work of container ingest.

A PacketChunker reads PyAV packets (objects exporting their bytes through the buffer protocol, with
PyAV's `stream_index`, `pts`, `dts`, `duration`, `is_keyframe` and `is_corrupt`) and makes one
MediaChunk per packet, or consecutive pieces of at most `chunk_size` bytes of a larger packet, all with
the packet's type and timestamp, numbered on from `start_sequence`. Each chunk's checksum is computed
here; a packet table row (see rs2fast.container.PacketTable) is written per packet when asked.

Each demuxed stream has a plan: how its packets are typed ("audio", "thumbnail": fixed types;
"bitstream": H.264 slice types read by rs2fast._h264; "keyframe": the keyframe flag, I or P; "decode":
left to the caller, who learns the type from a decoder) and its time base as nanoseconds = timestamp *
`scale` // `divisor`. `fill` runs the whole loop for a batch when no stream is typed by decoding;
`read` and `emit` are the two halves of the same per-packet step for the decoding path.

Chunks borrow the packet's bytes (no copy; the packet lives as long as one of its chunks). When a
stream is typed by decoding the bytes are copied instead: a PyAV packet holds its stream, and the
stream the decoder's frames, which a kept chunk would otherwise hold on to.
"""
cimport cython
from cpython.buffer cimport PyBUF_READ, PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.memoryview cimport PyMemoryView_FromMemory
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.stdint cimport INT64_MAX, INT64_MIN, int64_t, uint8_t, uint32_t, uint64_t

from rs2fast._chunk cimport MediaChunk, crc32c_string, crc32c_update, default_priority_code, make_chunk
from rs2fast._h264 cimport H264_ANNEXB, H264_AVCC, H264Error, h264_classify, h264_error_text

from rs2fast._chunk import checksum_hex
from rs2fast._enums import ChunkType
from rs2fast.errors import MediaFormatError

TYPINGS = ("audio", "thumbnail", "keyframe", "bitstream", "decode")

cdef enum Typing:
    TYPING_AUDIO = 0
    TYPING_THUMBNAIL = 1
    TYPING_KEYFRAME = 2
    TYPING_BITSTREAM = 3
    TYPING_DECODE = 4
    TYPING_NONE = -1           # a container stream that is not demuxed

cdef enum:
    TYPE_I_FRAME = 0           # ChunkType values
    TYPE_P_FRAME = 1
    TYPE_AUDIO = 3
    TYPE_THUMBNAIL = 5
    ROW_WIDTH = 7              # int64 values per packet table row
    CHECKSUM_NONE = 0
    CHECKSUM_CRC32C = 1
    CHECKSUM_SHA256 = 2
    NOGIL_BYTES = 65536        # checksum without the GIL from this many bytes on

cdef tuple _CHUNK_TYPES = tuple(ChunkType)


cdef extern from *:
    """
    /* floor(value * scale / divisor) for divisor > 0 into *out; 0 when the product overflows int64. */
    static inline int rs2_scale_floor(int64_t value, int64_t scale, int64_t divisor, int64_t* out) {
        int64_t product;
        if (__builtin_mul_overflow(value, scale, &product))
            return 0;
        int64_t quotient = product / divisor;
        if (product % divisor != 0 && product < 0)
            quotient -= 1;
        *out = quotient;
        return 1;
    }
    """
    bint rs2_scale_floor(int64_t value, int64_t scale, int64_t divisor, int64_t* out) noexcept nogil


cdef struct StreamPlan:
    int typing                 # a Typing
    int fixed_type             # ChunkType code for audio/thumbnail streams, else -1
    int framing                # H264Framing of a bitstream-typed stream
    int length_size            # AVCC length prefix size
    bint exact                 # scale and divisor fit int64 (else the arithmetic runs on Python ints)
    int64_t scale
    int64_t divisor
    int64_t last_ts            # timestamp of the stream's previous packet (for packets without one)
    int64_t packets            # packets demuxed


cdef struct PacketFields:
    Py_ssize_t stream_index
    int64_t timestamp_ns
    int64_t pts                # INT64_MIN when missing (as in the packet table)
    int64_t dts
    int64_t duration
    bint keyframe
    int type_code              # -1: typed later by decoding
    Py_ssize_t pieces


@cython.final
@cython.auto_pickle(False)
cdef class PacketData:
    """PacketData(packet)
--

A demuxed packet's bytes, borrowed without a copy: holds the packet's buffer export for as
    long as chunks point into it."""

    cdef Py_buffer view
    cdef bint held

    def __cinit__(self, packet):
        PyObject_GetBuffer(packet, &self.view, PyBUF_SIMPLE)
        self.held = True

    def __dealloc__(self):
        if self.held:
            PyBuffer_Release(&self.view)
            self.held = False

    def __len__(self):
        return self.view.len

    def __bytes__(self):
        return PyBytes_FromStringAndSize(<char*>self.view.buf, self.view.len)


@cython.final
@cython.auto_pickle(False)
cdef class PacketChunker:
    """PacketChunker(stream_id, source, chunk_size, checksum, start_sequence, plans, rows=None, base=0, *, keep_corrupt=False, check_truncated=None)
--

Makes MediaChunks, checksums and packet table rows from demuxed packets (see the module doc).

    `plans[i]` is None for a container stream that is not demuxed, else (typing, scale, divisor,
    framing, length_size) with framing "annexb"/"avcc" for "bitstream" typing (None otherwise).
    `rows` is the packet table's array('q') (or None), `base` its first sequence number. A packet
    the demuxer marks corrupt raises MediaFormatError unless `keep_corrupt`; `check_truncated()` is
    called first (the file shrinking is the likelier cause, reported as such). `sequence`,
    `packets_read` and `bytes_read` count what was read so far.
    """

    cdef StreamPlan* plans
    cdef Py_ssize_t plan_count
    cdef list scales                    # (scale, divisor) as Python ints, per stream
    cdef str stream_id
    cdef str source
    cdef Py_ssize_t chunk_size
    cdef int algorithm
    cdef bint keep_corrupt
    cdef bint full_fields               # read dts, duration and keyframe of every packet
    cdef bint copy_data                 # copy packet bytes instead of borrowing them
    cdef object check_truncated
    cdef object rows
    cdef uint64_t base
    cdef int64_t* row_buffer            # rows not yet appended to `rows`
    cdef Py_ssize_t row_count
    cdef Py_ssize_t row_capacity
    cdef readonly uint64_t sequence     # the sequence number the next chunk gets
    cdef readonly long long packets_read
    cdef readonly long long bytes_read

    def __cinit__(self):
        self.plans = NULL
        self.row_buffer = NULL

    def __dealloc__(self):
        PyMem_Free(self.plans)
        PyMem_Free(self.row_buffer)

    def __init__(self, str stream_id not None, str source not None, Py_ssize_t chunk_size, checksum,
                 uint64_t start_sequence, list plans not None, rows=None, uint64_t base=0, *,
                 bint keep_corrupt=False, check_truncated=None):
        cdef Py_ssize_t index
        cdef StreamPlan* plan
        if self.plans != NULL:
            raise TypeError("PacketChunker is already initialised")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        if checksum is None:
            self.algorithm = CHECKSUM_NONE
        elif checksum == "crc32c":
            self.algorithm = CHECKSUM_CRC32C
        elif checksum == "sha256":
            self.algorithm = CHECKSUM_SHA256
        else:
            raise ValueError(f'checksum must be None, "crc32c" or "sha256", got {checksum!r}')
        if check_truncated is not None and not callable(check_truncated):
            raise TypeError(f"check_truncated must be callable, not {type(check_truncated).__name__}")
        if rows is not None and not hasattr(rows, "frombytes"):
            raise TypeError(f"rows must be an array('q') or None, not {type(rows).__name__}")
        if not plans:
            raise ValueError("plans must name at least one stream")
        self.plans = <StreamPlan*>PyMem_Malloc(len(plans) * sizeof(StreamPlan))
        if self.plans == NULL:
            raise MemoryError()
        self.plan_count = len(plans)
        self.scales = []
        self.full_fields = rows is not None
        for index in range(self.plan_count):
            plan = &self.plans[index]
            plan.typing = TYPING_NONE
            plan.last_ts = 0
            plan.packets = 0
            self.scales.append(None)
            if plans[index] is not None:
                self._plan(plan, index, plans[index])
        self.stream_id = stream_id
        self.source = source
        self.chunk_size = chunk_size
        self.sequence = start_sequence
        self.keep_corrupt = keep_corrupt
        self.check_truncated = check_truncated
        self.rows = rows
        self.base = base

    cdef int _plan(self, StreamPlan* plan, Py_ssize_t index, object description) except -1:
        typing, scale, divisor, framing, length_size = description
        if typing not in TYPINGS:
            raise ValueError(f"plans[{index}]: typing must be one of {TYPINGS}, got {typing!r}")
        if divisor < 1 or scale < 0:
            raise ValueError(f"plans[{index}]: scale must be >= 0 and divisor >= 1")
        plan.typing = TYPINGS.index(typing)
        plan.fixed_type = (TYPE_AUDIO if plan.typing == TYPING_AUDIO else
                           TYPE_THUMBNAIL if plan.typing == TYPING_THUMBNAIL else -1)
        plan.exact = scale <= INT64_MAX and divisor <= INT64_MAX
        plan.scale = scale if plan.exact else 0
        plan.divisor = divisor if plan.exact else 1
        plan.framing = H264_ANNEXB
        plan.length_size = 4
        if plan.typing == TYPING_BITSTREAM:
            if framing not in ("annexb", "avcc"):
                raise ValueError(f"plans[{index}]: framing must be 'annexb' or 'avcc', got {framing!r}")
            if length_size not in (1, 2, 4):
                raise ValueError(f"plans[{index}]: length_size must be 1, 2 or 4, got {length_size!r}")
            plan.framing = H264_AVCC if framing == "avcc" else H264_ANNEXB
            plan.length_size = length_size
        elif plan.typing == TYPING_DECODE:
            self.full_fields = True
            self.copy_data = True
        self.scales[index] = (scale, divisor)
        return 0

    # --- the Python-facing steps ------------------------------------------------------------------

    def fill(self, demux, list batch not None, Py_ssize_t batch_size):
        """Read packets from the iterator `demux` and append their chunks to `batch` until it holds
        more than `batch_size` chunks (returns False) or `demux` ends (returns True). Every stream
        must be typed without decoding."""
        cdef PacketFields fields
        cdef bint ended = True
        cdef Py_ssize_t index
        for index in range(self.plan_count):
            if self.plans[index].typing == TYPING_DECODE:
                raise ValueError("fill() cannot type packets by decoding: use read() and emit()")
        try:
            for packet in demux:
                data = self._take(packet, &fields)
                if data is None:
                    continue
                self._emit(batch, data, &fields)
                if len(batch) > batch_size:
                    ended = False
                    break
        finally:
            self._flush_rows()
        return ended

    def read(self, packet):
        """One packet's fields, or None for an empty packet (the flush packet PyAV adds at the end):
        [first sequence, stream index, PacketData, timestamp ns, pts, dts, duration, keyframe, pieces,
        ChunkType or None when the stream is typed by decoding]. Its sequence numbers are taken."""
        cdef PacketFields fields
        data = self._take(packet, &fields)
        if data is None:
            return None
        return [self.sequence - <uint64_t>fields.pieces, fields.stream_index, data, fields.timestamp_ns,
                None if fields.pts == INT64_MIN else fields.pts,
                None if fields.dts == INT64_MIN else fields.dts,
                fields.duration, fields.keyframe, fields.pieces,
                None if fields.type_code < 0 else _CHUNK_TYPES[fields.type_code]]

    def emit(self, list batch not None, entries):
        """Append the chunks (and packet table rows) of entries made by read() whose types are now
        known, in order."""
        cdef PacketFields fields
        try:
            for entry in entries:
                first, index, data, ts, pts, dts, duration, keyframe, pieces, chunk_type = entry
                if type(data) is not PacketData or chunk_type is None:
                    raise TypeError("emit() takes entries made by read(), with their types set")
                fields.stream_index = index
                fields.timestamp_ns = ts
                fields.pts = INT64_MIN if pts is None else pts
                fields.dts = INT64_MIN if dts is None else dts
                fields.duration = duration
                fields.keyframe = keyframe
                fields.type_code = chunk_type
                fields.pieces = pieces
                self._emit_at(batch, <PacketData>data, &fields, first)
        finally:
            self._flush_rows()

    def packets_per_stream(self):
        """Packets demuxed so far, per container stream index."""
        return [self.plans[index].packets for index in range(self.plan_count)]

    # --- the per-packet step ------------------------------------------------------------------------

    cdef PacketData _take(self, object packet, PacketFields* fields):
        """Borrow (or copy) one packet's bytes and read its fields; type it unless decoding must.
        Returns the bytes, or None for an empty packet. Takes the packet's sequence numbers."""
        cdef PacketData data = PacketData(packet)
        cdef object copied
        cdef StreamPlan* plan
        cdef Py_ssize_t index
        cdef H264Error err
        cdef int kind
        cdef const uint8_t* ptr
        cdef size_t size
        if data.view.len == 0:
            return None
        if self.copy_data:
            copied = PyBytes_FromStringAndSize(<char*>data.view.buf, data.view.len)
            data = PacketData(copied)
        index = packet.stream_index
        if not 0 <= index < self.plan_count or self.plans[index].typing == TYPING_NONE:
            raise ValueError(f"a packet of stream {index}, which is not demuxed")
        plan = &self.plans[index]
        if not self.keep_corrupt and packet.is_corrupt:
            if self.check_truncated is not None:
                self.check_truncated()
            raise MediaFormatError(f"{self.source}: the demuxer marked a packet of stream {index} "
                                   f"corrupt (data lost or damaged in the file)",
                                   stream_id=self.stream_id, sequence_number=self.sequence)
        fields.stream_index = index
        dts = None
        pts = packet.pts
        fields.pts = INT64_MIN if pts is None else pts
        if pts is None or self.full_fields:
            dts = packet.dts
            fields.dts = INT64_MIN if dts is None else dts
        else:
            fields.dts = INT64_MIN
        if pts is None:
            pts = dts
        fields.timestamp_ns = plan.last_ts if pts is None else self._nanoseconds(plan, index, pts)
        plan.last_ts = fields.timestamp_ns
        if self.full_fields or plan.typing == TYPING_KEYFRAME:
            fields.keyframe = packet.is_keyframe
        else:
            fields.keyframe = False
        if self.full_fields:
            duration = packet.duration
            fields.duration = 0 if duration is None else duration
        else:
            fields.duration = 0
        fields.pieces = (data.view.len + self.chunk_size - 1) // self.chunk_size
        if plan.fixed_type >= 0:
            fields.type_code = plan.fixed_type
        elif plan.typing == TYPING_BITSTREAM:
            ptr = <const uint8_t*>data.view.buf
            size = <size_t>data.view.len
            if size >= NOGIL_BYTES:
                with nogil:
                    kind = h264_classify(ptr, size, plan.framing, plan.length_size, &err)
            else:
                kind = h264_classify(ptr, size, plan.framing, plan.length_size, &err)
            if kind < 0:
                raise MediaFormatError(f"{self.source}: damaged H.264 packet in stream {index}: "
                                       f"{h264_error_text(&err)}", stream_id=self.stream_id,
                                       sequence_number=self.sequence)
            fields.type_code = kind
        elif plan.typing == TYPING_KEYFRAME:
            fields.type_code = TYPE_I_FRAME if fields.keyframe else TYPE_P_FRAME
        else:
            fields.type_code = -1
        plan.packets += 1
        self.packets_read += 1
        self.bytes_read += data.view.len
        self.sequence += <uint64_t>fields.pieces
        return data

    cdef int64_t _nanoseconds(self, StreamPlan* plan, Py_ssize_t index, object stamp) except? -1:
        cdef int64_t out
        if plan.exact and rs2_scale_floor(stamp, plan.scale, plan.divisor, &out):
            return out
        scale, divisor = self.scales[index]
        value = stamp * scale // divisor
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"timestamp_ns {value} is outside the int64 range")
        return value

    cdef int _emit(self, list batch, PacketData data, PacketFields* fields) except -1:
        return self._emit_at(batch, data, fields, self.sequence - <uint64_t>fields.pieces)

    cdef int _emit_at(self, list batch, PacketData data, PacketFields* fields,
                      uint64_t first) except -1:
        """Append the chunks of one typed packet whose first sequence number is `first`."""
        cdef const uint8_t* ptr = <const uint8_t*>data.view.buf
        cdef Py_ssize_t size = data.view.len
        cdef Py_ssize_t offset = 0
        cdef Py_ssize_t length
        cdef uint64_t sequence = first
        cdef int priority = default_priority_code(fields.type_code)
        while True:
            length = size - offset if size - offset < self.chunk_size else self.chunk_size
            batch.append(make_chunk(self.stream_id, sequence, data, ptr + offset, length,
                                    fields.type_code, priority, fields.timestamp_ns, False,
                                    self._checksum(data, ptr, offset, length)))
            sequence += 1
            offset += length
            if offset >= size:
                break
        if self.rows is not None:
            self._row(first, fields)
        return 0

    cdef object _checksum(self, PacketData data, const uint8_t* ptr, Py_ssize_t offset,
                          Py_ssize_t length):
        cdef uint32_t crc
        if self.algorithm == CHECKSUM_NONE:
            return None
        if self.algorithm == CHECKSUM_CRC32C:
            if length >= NOGIL_BYTES:
                with nogil:
                    crc = crc32c_update(0, ptr + offset, <size_t>length)
            else:
                crc = crc32c_update(0, ptr + offset, <size_t>length)
            return crc32c_string(crc)
        return checksum_hex(PyMemoryView_FromMemory(<char*>ptr + offset, length, PyBUF_READ), "sha256")

    # --- packet table rows --------------------------------------------------------------------------

    cdef int _row(self, uint64_t first, PacketFields* fields) except -1:
        cdef int64_t* row
        cdef int64_t* grown
        if self.row_count == self.row_capacity:
            grown = <int64_t*>PyMem_Realloc(self.row_buffer,
                                           (self.row_capacity * 2 + 64) * ROW_WIDTH * sizeof(int64_t))
            if grown == NULL:
                raise MemoryError()
            self.row_buffer = grown
            self.row_capacity = self.row_capacity * 2 + 64
        row = self.row_buffer + self.row_count * ROW_WIDTH
        row[0] = <int64_t>(first - self.base)
        row[1] = fields.pieces
        row[2] = fields.stream_index
        row[3] = fields.pts
        row[4] = fields.dts
        row[5] = fields.duration
        row[6] = fields.keyframe
        self.row_count += 1
        return 0

    cdef int _flush_rows(self) except -1:
        if self.row_count:
            count = self.row_count
            self.row_count = 0
            self.rows.frombytes(PyBytes_FromStringAndSize(<char*>self.row_buffer,
                                                          count * ROW_WIDTH * sizeof(int64_t)))
        return 0
