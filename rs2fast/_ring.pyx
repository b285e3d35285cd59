"""ChunkRing: a stream's own bounded buffer of chunk references, in C.

Two kinds, chosen at creation:
- a FIFO (`live=False`, file streams): `push` adds chunks while there is room and says how many
  it took; the producer waits for room itself (nothing is lost);
- a shedding buffer (`live=True`, live streams): `push_shedding` never refuses; when the buffer is
  full, the worst chunk (lowest priority, then highest sequence number) is evicted if the newcomer
  outranks it, else the newcomer is dropped; the dropped chunks are returned. One FIFO per priority
  keeps both steps O(1).
`take` hands out chunks in sequence order. The ring has no lock of its own: the channel that owns it
calls it with its lock held (and the GIL), once per batch, so no Python code runs per chunk.
"""
cimport cython
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE, PyList_New
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF, Py_INCREF, Py_XDECREF
from libc.stdint cimport uint64_t

from rs2fast._args cimport count_arg
from rs2fast._chunk cimport MediaChunk
from rs2fast._cpython cimport list_set_item_owned


cdef enum:
    LEVELS = 3          # MediaPriority LOW=1, NORMAL=2, HIGH=3 -> FIFOs 0, 1, 2


cdef struct Fifo:
    PyObject** items    # owned references, ring of `cap` slots
    uint64_t* seqs      # sequence number of each slot
    Py_ssize_t head     # slot of the oldest item
    Py_ssize_t count    # items held


cdef inline Py_ssize_t _slot(const Fifo* f, Py_ssize_t i, Py_ssize_t cap) noexcept nogil:
    cdef Py_ssize_t s = f.head + i
    return s - cap if s >= cap else s


cdef inline void _append(Fifo* f, PyObject* item, uint64_t seq, Py_ssize_t cap) noexcept:
    cdef Py_ssize_t s = _slot(f, f.count, cap)
    Py_INCREF(<object>item)
    f.items[s] = item
    f.seqs[s] = seq
    f.count += 1


cdef inline PyObject* _pop_front(Fifo* f, Py_ssize_t cap) noexcept nogil:
    # Returns the owned reference.
    cdef PyObject* item = f.items[f.head]
    f.items[f.head] = NULL
    f.head = f.head + 1 if f.head + 1 < cap else 0
    f.count -= 1
    return item


cdef inline PyObject* _pop_back(Fifo* f, Py_ssize_t cap) noexcept nogil:
    # Returns the owned reference.
    cdef Py_ssize_t s = _slot(f, f.count - 1, cap)
    cdef PyObject* item = f.items[s]
    f.items[s] = NULL
    f.count -= 1
    return item


cdef inline MediaChunk _as_chunk(object item, Py_ssize_t index):
    if type(item) is not MediaChunk:
        raise TypeError(f"chunks[{index}] must be a MediaChunk, not {type(item).__name__}")
    return <MediaChunk>item


@cython.final
cdef class ChunkRing:
    """ChunkRing(capacity, live=False)
--

Bounded buffer of chunks: a FIFO (`live=False`) or a priority-shedding buffer (`live=True`)."""

    cdef Fifo fifos[LEVELS]
    cdef readonly Py_ssize_t capacity
    cdef readonly bint live
    cdef Py_ssize_t size

    def __cinit__(self, capacity, bint live=False):
        cdef int level
        cdef Py_ssize_t cap
        cap = count_arg(capacity, "capacity")
        if cap < 1:
            raise ValueError(f"capacity must be at least 1, got {cap}")
        self.capacity = cap
        self.live = live
        for level in range(LEVELS):
            self.fifos[level].items = NULL
            self.fifos[level].seqs = NULL
            self.fifos[level].head = 0
            self.fifos[level].count = 0
        for level in range(LEVELS if live else 1):
            self.fifos[level].items = <PyObject**>PyMem_Malloc(cap * sizeof(PyObject*))
            self.fifos[level].seqs = <uint64_t*>PyMem_Malloc(cap * sizeof(uint64_t))
            if self.fifos[level].items == NULL or self.fifos[level].seqs == NULL:
                raise MemoryError()

    def __dealloc__(self):
        cdef int level
        self._clear()
        for level in range(LEVELS):
            PyMem_Free(self.fifos[level].items)
            PyMem_Free(self.fifos[level].seqs)

    def __len__(self):
        return self.size

    def __repr__(self):
        kind = "live" if self.live else "fifo"
        return f"ChunkRing({kind}, len={self.size}, capacity={self.capacity})"

    def push(self, list chunks, Py_ssize_t start=0):
        """FIFO: append `chunks[start:]` while there is room; returns how many were appended."""
        cdef Py_ssize_t n = PyList_GET_SIZE(chunks), i, room, end
        if self.live:
            raise TypeError("a live ChunkRing sheds instead of refusing: use push_shedding")
        if start < 0 or start > n:
            raise IndexError(f"start {start} is outside the list of {n} chunks")
        room = self.capacity - self.size
        end = start + room if room < n - start else n
        for i in range(start, end):      # check every item before taking any
            _as_chunk(<object>PyList_GET_ITEM(chunks, i), i)
        for i in range(start, end):
            item = <MediaChunk>PyList_GET_ITEM(chunks, i)
            _append(&self.fifos[0], <PyObject*>item, item.seq, self.capacity)
        self.size += end - start
        return end - start

    def push_shedding(self, list chunks):
        """Live: queue every chunk, shedding the worst when full; returns the dropped chunks (the
        evicted ones and the newcomers that did not outrank the worst), in the order dropped."""
        cdef Py_ssize_t n = PyList_GET_SIZE(chunks), i
        cdef MediaChunk chunk
        cdef int level, worst
        cdef Fifo* victim_fifo
        cdef list dropped = []
        if not self.live:
            raise TypeError("a FIFO ChunkRing does not shed: use push")
        for i in range(n):
            _as_chunk(<object>PyList_GET_ITEM(chunks, i), i)
        for i in range(n):
            chunk = <MediaChunk>PyList_GET_ITEM(chunks, i)
            level = _level(chunk.priority_code)
            if self.size < self.capacity:
                _append(&self.fifos[level], <PyObject*>chunk, chunk.seq, self.capacity)
                self.size += 1
                continue
            worst = 0
            while self.fifos[worst].count == 0:
                worst += 1
            victim_fifo = &self.fifos[worst]
            if level < worst or (level == worst and chunk.seq >= victim_fifo.seqs[
                    _slot(victim_fifo, victim_fifo.count - 1, self.capacity)]):
                dropped.append(chunk)
                continue
            victim = <object>_pop_back(victim_fifo, self.capacity)
            Py_DECREF(victim)            # the ring's reference now belongs to `victim`
            dropped.append(victim)
            _append(&self.fifos[level], <PyObject*>chunk, chunk.seq, self.capacity)
        return dropped

    def take(self, Py_ssize_t max_items):
        """Up to `max_items` chunks in sequence order (the list may be empty)."""
        cdef Py_ssize_t n = max_items if max_items < self.size else self.size, i
        cdef list out
        if max_items < 0:
            raise ValueError(f"max_items must not be negative, got {max_items}")
        out = PyList_New(n)
        for i in range(n):
            list_set_item_owned(out, i, _pop_front(self._next_fifo(), self.capacity))
        self.size -= n
        return out

    def clear(self):
        """Forget every chunk held."""
        self._clear()

    cdef inline Fifo* _next_fifo(self) noexcept:
        # The FIFO whose head has the lowest sequence number (live), or the only one.
        cdef int level, best = -1
        cdef Fifo* f
        if not self.live:
            return &self.fifos[0]
        for level in range(LEVELS):
            f = &self.fifos[level]
            if f.count and (best < 0 or f.seqs[f.head] < self.fifos[best].seqs[self.fifos[best].head]):
                best = level
        return &self.fifos[best]

    cdef void _clear(self) noexcept:
        cdef int level
        cdef Fifo* f
        for level in range(LEVELS):
            f = &self.fifos[level]
            while f.count:
                Py_XDECREF(_pop_front(f, self.capacity))
            f.head = 0
        self.size = 0


cdef inline int _level(int priority_code) noexcept nogil:
    # MediaPriority codes 1..3 -> FIFO 0..2 (anything else was refused when the chunk was made).
    return priority_code - 1
