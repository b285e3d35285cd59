# cython: autotestdict=False
"""PriorityHeap: a bounded, thread-safe min-max heap of items keyed by (priority, sequence).

Order: priority DESC, then sequence ASC, then arrival ASC (FIFO among equal keys). The heap never
blocks or waits; the blocking MediaPriorityQueue is built on top of it.
"""
cimport cython
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE, PyList_New
from cpython.mem cimport PyMem_RawCalloc, PyMem_RawFree, PyMem_RawMalloc
from cpython.object cimport PyObject
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.ref cimport Py_DECREF, Py_INCREF, Py_XDECREF, Py_XINCREF
from libc.stdint cimport int32_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy, memset

from rs2fast._args cimport count_arg, int_arg, priority_code_arg, uint64_arg
from rs2fast._chunk cimport MediaChunk
from rs2fast._cpython cimport list_set_item_owned
from rs2fast._lock cimport rs2_lock_free, rs2_lock_gil, rs2_lock_init, rs2_lock_nogil, rs2_unlock

cdef extern from *:
    """
    static inline int rs2_heap_key_less(uint64_t ahi, uint64_t alo, uint64_t bhi, uint64_t blo) {
    #ifdef __SIZEOF_INT128__
        return (((unsigned __int128)ahi << 64) | alo) < (((unsigned __int128)bhi << 64) | blo);
    #else
        return (ahi < bhi) | ((ahi == bhi) & (alo < blo));
    #endif
    }
    static inline int rs2_heap_clz64(uint64_t v) {  /* v != 0 */
    #if defined(__GNUC__) || defined(__clang__)
        return __builtin_clzll((unsigned long long)v);
    #else
        int n = 0;
        while (!(v & 0x8000000000000000ULL)) { v <<= 1; n++; }
        return n;
    #endif
    }
    #if defined(__GNUC__) || defined(__clang__)
    #define RS2_HEAP_LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
    #define RS2_HEAP_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
    static inline int rs2_heap_is_best_level(Py_ssize_t i) {
        /* level = floor(log2(i + 1)); even levels are "best" levels */
        return ((63 - __builtin_clzll((unsigned long long)i + 1ULL)) & 1) == 0;
    }
    #else
    #define RS2_HEAP_LOAD(x) (*(volatile Py_ssize_t *)&(x))
    #define RS2_HEAP_STORE(x, v) ((*(volatile Py_ssize_t *)&(x)) = (v))
    static inline int rs2_heap_is_best_level(Py_ssize_t i) {
        unsigned long long v = (unsigned long long)i + 1ULL;
        int level = -1;
        while (v) { v >>= 1; level++; }
        return (level & 1) == 0;
    }
    #endif
    """
    Py_ssize_t RS2_HEAP_LOAD(Py_ssize_t) noexcept nogil
    void RS2_HEAP_STORE(Py_ssize_t, Py_ssize_t) noexcept nogil
    bint rs2_heap_is_best_level(Py_ssize_t) noexcept nogil
    bint rs2_heap_key_less(uint64_t, uint64_t, uint64_t, uint64_t) noexcept nogil
    int rs2_heap_clz64(uint64_t) noexcept nogil

cdef enum:
    # Batches of at least this many items release the GIL while they sift (≈ 12 KiB of entries).
    _NOGIL_MIN_ITEMS = 512
    # Staging buffers up to this many entries live on the C stack.
    _LOCAL_ITEMS = 64
    # Draining at least this many items sorts them (radix) instead of popping one by one.
    _SORT_MIN_ITEMS = 64
    # Slot indices are int32.
    _MAX_CAPACITY = 0x7FFFFFFF

# Arrival counters stay below 2**62 (they fit the low bits of key_lo); see _take_orders.
cdef uint64_t _ORDER_LIMIT = (<uint64_t>1) << 62


# --- comparison ---------------------------------------------------------------------------------

cdef inline bint _before(const HeapEntry* a, const HeapEntry* b) noexcept nogil:
    """True when `a` comes out before `b` (entries are never equal: orders are unique)."""
    return rs2_heap_key_less(a.key_hi, a.key_lo, b.key_hi, b.key_lo)


cdef inline bint _ext(const HeapEntry* a, const HeapEntry* b, bint best) noexcept nogil:
    """True when `a` is more extreme than `b` in direction `best` (best: before; else: after)."""
    return _before(a, b) == best


# --- min-max heap kernels (callers hold the lock) -----------------------------------------------

cdef void _sift_up(HeapEntry* h, Py_ssize_t i, HeapEntry x) noexcept nogil:
    """Place `x` into the hole at index `i` (the new last position) and restore the heap."""
    cdef Py_ssize_t p
    cdef bint best
    if i > 0:
        best = rs2_heap_is_best_level(i)
        p = (i - 1) >> 1
        if _ext(&x, &h[p], not best):
            h[i] = h[p]
            i = p
            best = not best
        while i >= 3:
            p = (i - 3) >> 2          # grandparent
            if _ext(&x, &h[p], best):
                h[i] = h[p]
                i = p
            else:
                break
    h[i] = x


cdef void _sift_down(HeapEntry* h, Py_ssize_t n, Py_ssize_t i, HeapEntry x,
                     bint best) noexcept nogil:
    """Place `x` into the hole at `i` (a best level iff `best`) of a heap of `n` entries."""
    cdef Py_ssize_t c, g, m, a, b, j, p
    cdef HeapEntry t
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        g = 4 * i + 3
        if g + 3 < n:
            # All four grandchildren exist; each child is less extreme than its own children.
            a = g + (not _ext(&h[g], &h[g + 1], best))
            b = g + 2 + (not _ext(&h[g + 2], &h[g + 3], best))
            m = a if _ext(&h[a], &h[b], best) else b
        else:
            m = c
            if c + 1 < n and _ext(&h[c + 1], &h[m], best):
                m = c + 1
            j = g
            while j < n:
                if _ext(&h[j], &h[m], best):
                    m = j
                j += 1
        if not _ext(&h[m], &x, best):
            break
        h[i] = h[m]
        i = m
        if m < g:
            break                     # a child without children: `x` settles there
        p = (m - 1) >> 1
        if _ext(&x, &h[p], not best):
            t = h[p]
            h[p] = x
            x = t
    h[i] = x


cdef void _heapify(HeapEntry* h, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i = n // 2 - 1
    while i >= 0:
        _sift_down(h, n, i, h[i], rs2_heap_is_best_level(i))
        i -= 1


cdef inline Py_ssize_t _worst_index(const HeapEntry* h, Py_ssize_t n) noexcept nogil:
    if n <= 2:
        return n - 1
    return 2 if _before(&h[1], &h[2]) else 1


cdef inline HeapEntry _remove_at(HeapEntry* h, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    """Remove and return h[i], where i is the best (0) or worst index of a heap of n >= 1."""
    cdef HeapEntry out = h[i]
    n -= 1
    if i < n:
        _sift_down(h, n, i, h[n], i == 0)
    return out


cdef void _insert_many(HeapEntry* h, Py_ssize_t* countp, const HeapEntry* src,
                       Py_ssize_t k) noexcept nogil:
    cdef Py_ssize_t n = countp[0], j
    if k > n:
        memcpy(h + n, src, <size_t>k * sizeof(HeapEntry))
        _heapify(h, n + k)
    else:
        for j in range(k):
            _sift_up(h, n + j, src[j])
    RS2_HEAP_STORE(countp[0], n + k)


cdef void _pop_into(HeapEntry* h, Py_ssize_t* countp, HeapEntry* out,
                    Py_ssize_t k) noexcept nogil:
    """Pop the k (<= count) best entries into out[0:k], best first."""
    cdef Py_ssize_t n = countp[0], j
    for j in range(k):
        out[j] = h[0]
        n -= 1
        if n > 0:
            _sift_down(h, n, 0, h[n], True)
    RS2_HEAP_STORE(countp[0], n)


# --- sorting a drained batch ---------------------------------------------------------------------

include "_heap_sort.pxi"


# --- small helpers ------------------------------------------------------------------------------

cdef int _orders_exhausted() except -1:
    raise OverflowError("PriorityHeap arrival counter exhausted (2**62 arrivals without ever "
                        "being empty); drain the heap or use a new one")


cdef inline bint _take_orders(PriorityHeap heap, uint64_t k, uint64_t* base) noexcept:
    """Reserve `k` arrival numbers (lock held). The counter restarts at 0 when it would pass
    2**62 and nothing is live or in flight; False if it cannot (the caller raises)."""
    if heap.next_order + k > _ORDER_LIMIT:
        if heap.free_top != heap.cap:
            return False
        heap.next_order = 0
    base[0] = heap.next_order
    heap.next_order += k
    return True


cdef inline object _steal(PyObject* p):
    """Turn an owned reference into an object (no net refcount change)."""
    cdef object o = <object>p
    Py_DECREF(o)
    return o


cdef inline HeapEntry* _alloc_entries(Py_ssize_t n, HeapEntry* local) except NULL:
    cdef HeapEntry* p
    if n <= _LOCAL_ITEMS:
        return local
    p = <HeapEntry*>PyMem_RawMalloc(<size_t>n * sizeof(HeapEntry))
    if p == NULL:
        raise MemoryError()
    return p


@cython.final
@cython.auto_pickle(False)
cdef class PriorityHeap:
    """PriorityHeap(capacity)
--

    Bounded, thread-safe priority heap of Python objects keyed by (priority, sequence).

    Best first: higher priority, then lower sequence, then earlier arrival (FIFO among equal
    keys). Both ends are O(log n) (a min-max heap). Never blocks: `push` returns False when
    full, `pop` raises IndexError when empty. Batch calls release the GIL while they sift.
    """

    def __cinit__(self, capacity):
        self.entries = NULL
        self.slots = NULL
        self.free_slots = NULL
        self.cap = 0
        self.count = 0
        self.free_top = 0
        self.next_order = 0
        self.lock_ready = False
        capacity = int_arg(capacity, "capacity")
        if capacity < 1 or capacity > _MAX_CAPACITY:
            raise ValueError(f"capacity must be in 1..{_MAX_CAPACITY}, got {capacity!r}")
        cdef Py_ssize_t n = capacity, i
        if <size_t>n > <size_t>PY_SSIZE_T_MAX / sizeof(HeapEntry):
            raise MemoryError()
        if rs2_lock_init(&self.lock) != 0:
            raise MemoryError()
        self.lock_ready = True
        self.entries = <HeapEntry*>PyMem_RawMalloc(<size_t>n * sizeof(HeapEntry))
        self.slots = <PyObject**>PyMem_RawCalloc(<size_t>n, sizeof(PyObject*))
        self.free_slots = <int32_t*>PyMem_RawMalloc(<size_t>n * sizeof(int32_t))
        if self.entries == NULL or self.slots == NULL or self.free_slots == NULL:
            raise MemoryError()
        for i in range(n):
            self.free_slots[i] = <int32_t>(n - 1 - i)
        self.cap = n
        self.free_top = n

    def __init__(self, capacity):
        """Create an empty heap holding at most `capacity` (>= 1) items."""

    def __dealloc__(self):
        cdef Py_ssize_t i
        cdef PyObject* obj
        if self.slots != NULL:
            for i in range(self.cap):
                obj = self.slots[i]
                if obj != NULL:
                    self.slots[i] = NULL
                    Py_XDECREF(obj)
            PyMem_RawFree(self.slots)
            self.slots = NULL
        PyMem_RawFree(self.entries)
        self.entries = NULL
        PyMem_RawFree(self.free_slots)
        self.free_slots = NULL
        if self.lock_ready:
            rs2_lock_free(&self.lock)
            self.lock_ready = False

    # --- C-level fast paths --------------------------------------------------------------------

    cdef int push_entry(self, object item, uint8_t priority, uint64_t seq) except -1:
        cdef Py_ssize_t top
        cdef uint64_t order
        cdef int32_t slot
        cdef int result = 1
        rs2_lock_gil(&self.lock)
        top = self.free_top - 1
        if top < 0:
            result = 0
        elif not _take_orders(self, 1, &order):
            result = -1
        else:
            RS2_HEAP_STORE(self.free_top, top)
            slot = self.free_slots[top]
            Py_INCREF(item)
            self.slots[slot] = <PyObject*>item
            _sift_up(self.entries, self.count, make_entry(priority, seq, order, slot))
            RS2_HEAP_STORE(self.count, self.count + 1)
        rs2_unlock(&self.lock)
        if result < 0:
            _orders_exhausted()
        return result

    cdef PyObject* pop_entry(self, bint best) noexcept:
        cdef PyObject* obj = NULL
        cdef HeapEntry e
        cdef Py_ssize_t n
        rs2_lock_gil(&self.lock)
        n = self.count
        if n > 0:
            e = _remove_at(self.entries, n, 0 if best else _worst_index(self.entries, n))
            RS2_HEAP_STORE(self.count, n - 1)
            obj = self.slots[e.slot]
            self.slots[e.slot] = NULL
            self.free_slots[self.free_top] = e.slot
            RS2_HEAP_STORE(self.free_top, self.free_top + 1)
        rs2_unlock(&self.lock)
        return obj

    cdef void _return_slots(self, const HeapEntry* stage, Py_ssize_t k) noexcept:
        """Give the (already emptied) slots of stage[0:k] back to the free stack."""
        cdef Py_ssize_t j, top
        rs2_lock_gil(&self.lock)
        top = self.free_top
        for j in range(k):
            self.free_slots[top] = stage[j].slot
            top += 1
        RS2_HEAP_STORE(self.free_top, top)
        rs2_unlock(&self.lock)

    cdef void _abandon(self, HeapEntry* stage, Py_ssize_t filled, Py_ssize_t reserved) noexcept:
        """Undo a batch push: drop the items of the first `filled` slots, free all reserved."""
        cdef Py_ssize_t j
        cdef PyObject* obj
        for j in range(filled):
            obj = self.slots[stage[j].slot]
            self.slots[stage[j].slot] = NULL
            Py_XDECREF(obj)
        self._return_slots(stage, reserved)

    cdef list _to_list(self, HeapEntry* stage, Py_ssize_t k):
        """Move the items of stage[0:k] (taken out of the heap) into a new list, freeing slots.

        On MemoryError the entries go back into the heap unchanged.
        """
        cdef list result
        cdef Py_ssize_t j
        cdef int32_t s
        try:
            result = PyList_New(k)
        except MemoryError:
            rs2_lock_gil(&self.lock)
            _insert_many(self.entries, &self.count, stage, k)
            rs2_unlock(&self.lock)
            raise
        for j in range(k):
            s = stage[j].slot
            list_set_item_owned(result, j, self.slots[s])
            self.slots[s] = NULL
        self._return_slots(stage, k)
        return result

    # --- Python API ----------------------------------------------------------------------------

    @property
    def capacity(self):
        """Maximum number of items (fixed at construction)."""
        return self.cap

    @property
    def live_slots(self):
        """Occupied slots: items held, including those of a batch call still in progress."""
        return self.cap - RS2_HEAP_LOAD(self.free_top)

    def __len__(self):
        return RS2_HEAP_LOAD(self.count)

    def __bool__(self):
        return RS2_HEAP_LOAD(self.count) != 0

    def __repr__(self):
        return f"PriorityHeap(capacity={self.cap}, len={RS2_HEAP_LOAD(self.count)})"

    def push(self, item, priority, sequence):
        """Add `item` with key (priority 1..3, sequence 0..2**64-1); False (no change) if full."""
        cdef int p = priority_code_arg(priority, "priority")
        cdef uint64_t s = uint64_arg(sequence, "sequence")
        return self.push_entry(item, <uint8_t>p, s) != 0

    def push_chunk(self, MediaChunk chunk not None):
        """Add a MediaChunk keyed by its priority and sequence number; False if full."""
        if chunk.priority_code < 1 or chunk.priority_code > 3:
            raise ValueError(f"chunk priority code {chunk.priority_code} is not 1, 2 or 3")
        return self.push_entry(chunk, <uint8_t>chunk.priority_code, chunk.seq) != 0

    def pop(self):
        """Remove and return the best item; IndexError when empty."""
        cdef PyObject* obj = self.pop_entry(True)
        if obj == NULL:
            raise IndexError("pop from an empty PriorityHeap")
        return _steal(obj)

    def pop_lowest(self):
        """Remove and return the worst item (lowest priority, highest sequence, latest arrival)."""
        cdef PyObject* obj = self.pop_entry(False)
        if obj == NULL:
            raise IndexError("pop_lowest from an empty PriorityHeap")
        return _steal(obj)

    def peek(self):
        """Return the best item without removing it; IndexError when empty."""
        cdef PyObject* obj = NULL
        rs2_lock_gil(&self.lock)
        if self.count > 0:
            obj = self.slots[self.entries[0].slot]
            Py_XINCREF(obj)
        rs2_unlock(&self.lock)
        if obj == NULL:
            raise IndexError("peek at an empty PriorityHeap")
        return _steal(obj)

    def peek_key(self):
        """(priority, sequence) of the best item, or None when empty."""
        return self._end_key(True)

    def peek_lowest_key(self):
        """(priority, sequence) of the worst item, or None when empty."""
        return self._end_key(False)

    cdef object _end_key(self, bint best):
        cdef HeapEntry e
        cdef bint found = False
        e.key_hi = e.key_lo = 0
        rs2_lock_gil(&self.lock)
        if self.count > 0:
            e = self.entries[0 if best else _worst_index(self.entries, self.count)]
            found = True
        rs2_unlock(&self.lock)
        return (entry_priority(&e), entry_seq(&e)) if found else None

    def push_chunks(self, list chunks not None, start=0):
        """Push MediaChunks from chunks[start:], in order, until full; return how many were pushed.

        All or nothing on bad input: an element that is not a MediaChunk raises TypeError and
        nothing is pushed.
        """
        cdef Py_ssize_t first = count_arg(start, "start")
        cdef Py_ssize_t size = PyList_GET_SIZE(chunks)
        if first > size:
            raise ValueError(f"start must be in 0..len(chunks) ({size}), got {start!r}")
        cdef Py_ssize_t want = size - first
        if want > self.cap:
            want = self.cap
        if want <= 0:
            return 0
        cdef HeapEntry local[_LOCAL_ITEMS]
        cdef HeapEntry* stage = _alloc_entries(want, local)
        cdef Py_ssize_t r = 0, j, top
        cdef uint64_t base = 0
        cdef bint exhausted = False
        cdef object item
        cdef MediaChunk chunk
        try:
            # Phase 1 (GIL + lock): reserve slots and arrival numbers.
            rs2_lock_gil(&self.lock)
            # The list may have changed if the GIL was released while waiting for the lock.
            r = PyList_GET_SIZE(chunks) - first
            if r > want:
                r = want
            if r > self.free_top:
                r = self.free_top
            if r > 0 and not _take_orders(self, <uint64_t>r, &base):
                exhausted = True
                r = 0
            if r > 0:
                top = self.free_top
                for j in range(r):
                    top -= 1
                    stage[j].slot = self.free_slots[top]
                RS2_HEAP_STORE(self.free_top, top)
            rs2_unlock(&self.lock)
            if exhausted:
                _orders_exhausted()
            if r <= 0:
                return 0
            # Phase 2 (GIL, no lock): fill the reserved slots. No Python code runs here, so the
            # list cannot change under us.
            for j in range(r):
                item = <object>PyList_GET_ITEM(chunks, first + j)
                if type(item) is not MediaChunk or not 1 <= (<MediaChunk>item).priority_code <= 3:
                    self._abandon(stage, j, r)
                    if type(item) is MediaChunk:
                        raise ValueError(f"chunks[{first + j}] has priority code "
                                         f"{(<MediaChunk>item).priority_code}, not 1, 2 or 3")
                    raise TypeError(f"chunks[{first + j}] must be a MediaChunk, "
                                    f"not {type(item).__name__}")
                chunk = <MediaChunk>item
                stage[j] = make_entry(<uint8_t>chunk.priority_code, chunk.seq,
                                      base + <uint64_t>j, stage[j].slot)
                Py_INCREF(item)
                self.slots[stage[j].slot] = <PyObject*>item
            # Phase 3 (lock; GIL released for large batches): sift the entries in.
            if r >= _NOGIL_MIN_ITEMS:
                with nogil:
                    rs2_lock_nogil(&self.lock)
                    _insert_many(self.entries, &self.count, stage, r)
                    rs2_unlock(&self.lock)
            else:
                rs2_lock_gil(&self.lock)
                _insert_many(self.entries, &self.count, stage, r)
                rs2_unlock(&self.lock)
            return r
        finally:
            if stage != local:
                PyMem_RawFree(stage)

    cdef Py_ssize_t _take_locked(self, HeapEntry* stage, Py_ssize_t room, Py_ssize_t limit,
                                 bint* drained) noexcept nogil:
        # With the lock held: copy the whole heap out unsorted (`drained`; the caller sorts it
        # outside the lock) when it is big and fits, else pop up to `limit` best entries in order.
        # Returns how many entries went to `stage`, or -1 if they no longer fit `room`.
        cdef Py_ssize_t n = self.count
        drained[0] = False
        if n >= _SORT_MIN_ITEMS and n <= room:
            memcpy(stage, self.entries, <size_t>n * sizeof(HeapEntry))
            RS2_HEAP_STORE(self.count, 0)
            drained[0] = True
            return n
        if min(n, limit) <= room:
            _pop_into(self.entries, &self.count, stage, min(n, limit))
            return min(n, limit)
        return -1

    def pop_batch(self, max_items):
        """Remove and return up to `max_items` best items, best first."""
        cdef Py_ssize_t limit = count_arg(max_items, "max_items")
        cdef HeapEntry local[3 * _LOCAL_ITEMS]
        cdef HeapEntry* stage
        cdef Py_ssize_t room, got
        cdef HeapEntry* ordered
        cdef bint drained
        while True:
            room = RS2_HEAP_LOAD(self.count)
            if room > limit:
                room = limit
            if room == 0:
                return []
            # Three times the room: a drain sorts with scratch space.
            stage = _alloc_entries(3 * room, local)
            try:
                ordered = stage
                if room >= _NOGIL_MIN_ITEMS:
                    with nogil:
                        rs2_lock_nogil(&self.lock)
                        got = self._take_locked(stage, room, limit, &drained)
                        rs2_unlock(&self.lock)
                        if drained:
                            ordered = _sort_entries(stage, stage + got, got)
                else:
                    rs2_lock_gil(&self.lock)
                    got = self._take_locked(stage, room, limit, &drained)
                    rs2_unlock(&self.lock)
                    if drained:
                        ordered = _sort_entries(stage, stage + got, got)
                if got >= 0:
                    return self._to_list(ordered, got)
            finally:
                if stage != local:
                    PyMem_RawFree(stage)
            # More items arrived than the buffer holds: size it again.

    cdef Py_ssize_t _copy_all(self, HeapEntry* stage, Py_ssize_t room, bint empty) noexcept:
        # Under the lock: copy every entry into `stage` (which holds `room`) and, with `empty`, leave
        # the heap empty. -1, and nothing done, when more than `room` entries are there.
        cdef Py_ssize_t got = -1
        rs2_lock_gil(&self.lock)
        if self.count <= room:
            got = self.count
            memcpy(stage, self.entries, <size_t>got * sizeof(HeapEntry))
            if empty:
                RS2_HEAP_STORE(self.count, 0)
        rs2_unlock(&self.lock)
        return got

    def clear(self):
        """Remove every item; return them best first."""
        cdef HeapEntry local[3 * _LOCAL_ITEMS]
        cdef HeapEntry* stage
        cdef Py_ssize_t room, got
        cdef HeapEntry* ordered
        while True:
            room = max(1, RS2_HEAP_LOAD(self.count))
            stage = _alloc_entries(3 * room, local)      # a sort needs scratch space
            try:
                got = self._copy_all(stage, room, True)
                if got >= _NOGIL_MIN_ITEMS:
                    with nogil:
                        ordered = _sort_entries(stage, stage + got, got)
                    return self._to_list(ordered, got)
                if got >= 0:
                    return self._to_list(_sort_entries(stage, stage + got, got), got)
            finally:
                if stage != local:
                    PyMem_RawFree(stage)

    def keys(self):
        """Keys (priority, sequence) of all items, in internal heap order (tests and debugging)."""
        cdef HeapEntry local[_LOCAL_ITEMS]
        cdef HeapEntry* stage
        cdef Py_ssize_t room, got, j
        while True:
            room = max(1, RS2_HEAP_LOAD(self.count))
            stage = _alloc_entries(room, local)
            try:
                got = self._copy_all(stage, room, False)
                if got >= 0:
                    return [(entry_priority(&stage[j]), entry_seq(&stage[j])) for j in range(got)]
            finally:
                if stage != local:
                    PyMem_RawFree(stage)

    def _set_next_order(self, uint64_t value):
        """Set the arrival counter (tests only: exercises the 2**62 restart rule)."""
        if value > _ORDER_LIMIT:
            raise ValueError("value must be <= 2**62")
        rs2_lock_gil(&self.lock)
        self.next_order = value
        rs2_unlock(&self.lock)

    def _check(self):
        """Verify the heap and slot-table invariants (tests only); AssertionError if broken."""
        cdef Py_ssize_t cap = self.cap, i, j, n, top, s
        cdef bint best
        cdef HeapEntry* h = <HeapEntry*>PyMem_RawMalloc(<size_t>cap * sizeof(HeapEntry))
        cdef int32_t* free = <int32_t*>PyMem_RawMalloc(<size_t>cap * sizeof(int32_t))
        cdef uint8_t* used = <uint8_t*>PyMem_RawCalloc(<size_t>cap, 1)
        cdef list problems = []
        try:
            if h == NULL or free == NULL or used == NULL:
                raise MemoryError()
            rs2_lock_gil(&self.lock)
            n = self.count
            top = self.free_top
            memcpy(h, self.entries, <size_t>n * sizeof(HeapEntry))
            memcpy(free, self.free_slots, <size_t>top * sizeof(int32_t))
            for i in range(cap):
                used[i] = 2 if self.slots[i] != NULL else 0
            rs2_unlock(&self.lock)
            if n + top != cap:
                problems.append(f"{n} entries + {top} free slots != capacity {cap}")
            for i in range(n):
                s = h[i].slot
                if s < 0 or s >= cap or used[s] != 2:
                    problems.append(f"entry {i} has bad slot {s}")
                    continue
                used[s] = 1
                if not 1 <= entry_priority(&h[i]) <= 3:
                    problems.append(f"entry {i} has priority {entry_priority(&h[i])}")
                if entry_order(&h[i]) >= self.next_order:
                    problems.append(f"entry {i} has order {entry_order(&h[i])} >= next order")
                best = rs2_heap_is_best_level(i)
                for j in range(2 * i + 1, min(2 * i + 3, n)):
                    if _ext(&h[j], &h[i], best):
                        problems.append(f"child {j} beats {i}")
                for j in range(4 * i + 3, min(4 * i + 7, n)):
                    if _ext(&h[j], &h[i], best):
                        problems.append(f"grandchild {j} beats {i}")
            for i in range(top):
                s = free[i]
                if s < 0 or s >= cap or used[s] != 0:
                    problems.append(f"free slot {s} is bad")
                    continue
                used[s] = 3
        finally:
            PyMem_RawFree(h)
            PyMem_RawFree(free)
            PyMem_RawFree(used)
        if problems:
            raise AssertionError("; ".join(problems))
