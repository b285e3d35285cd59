"""Per-stream reorder buffer: a ring of `window` slots that puts one stream's chunks back in
sequence order, drops duplicates and late chunks, and never lets a stream get stuck.

The ring holds the chunks with sequence numbers in (next_expected, next_expected + window], at
slot `seq % window`. Objects live in a slot table of owned references whose refcounts change
only with the GIL held; the ring logic itself is integer work that `insert_batch` runs with the
GIL released. A lock inside each buffer makes it safe to share between threads.
"""
cimport cython
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.mem cimport PyMem_RawCalloc, PyMem_RawFree, PyMem_RawMalloc
from cpython.object cimport PyObject
from cpython.ref cimport Py_XDECREF, Py_XINCREF
from libc.stdint cimport INT64_MAX, UINT64_MAX, int64_t, uint8_t, uint64_t
from libc.string cimport memset

from rs2fast._args cimport int64_arg, int_arg, ranged_arg, uint64_arg
from rs2fast._chunk cimport MediaChunk
from rs2fast._cpython cimport list_append_ptr
from rs2fast._lock cimport rs2_lock_free, rs2_lock_gil, rs2_lock_init, rs2_lock_nogil, rs2_unlock


ACCEPTED = REORDER_ACCEPTED
DUPLICATE = REORDER_DUPLICATE
LATE = REORDER_LATE
GAP = REORDER_GAP
OVERFLOW = REORDER_OVERFLOW
STATUS_NAMES = ("ACCEPTED", "DUPLICATE", "LATE", "GAP", "OVERFLOW")
MAX_WINDOW = 1 << 20
MAX_HISTORY = 1 << 24

# Where a rejected chunk lies, for resync by agreement.
cdef enum:
    FAR_NONE = 0        # near the watermark: never part of a resync run
    FAR_AHEAD = 1       # beyond the window
    FAR_BEHIND = 2      # below the history, or more than a window below a stalled watermark


# --- helpers (GIL held) ----------------------------------------------------------------------

cdef inline Py_ssize_t _item_size(PyObject* item) noexcept:
    """The bytes an item counts for in `buffered_bytes`: a MediaChunk's data length, else 0."""
    return (<MediaChunk>item).length if type(<object>item) is MediaChunk else 0


cdef uint8_t[::1] _statuses_arg(object statuses):
    try:
        return statuses
    except (TypeError, ValueError, BufferError) as exc:
        raise TypeError(f"statuses must be a writable C-contiguous uint8 buffer: {exc}") from None


cdef int _append_all(list ready, PyObject** refs, Py_ssize_t n) noexcept:
    """Append `n` owned references to `ready` and drop our references; -1 if an append failed
    (the rest are still released, the error stays set)."""
    cdef Py_ssize_t i
    cdef int failed = 0
    for i in range(n):
        if not failed and list_append_ptr(<PyObject*>ready, refs[i]) < 0:
            failed = 1
        Py_XDECREF(refs[i])
    return -1 if failed else 0


@cython.final
cdef class ReorderBuffer:
    """ReorderBuffer(window, *, next_expected=0, timeout_ns=0, resync_after=4, history=1024)
--

    One stream's reorder buffer: insert chunks in any order, get them back in sequence order.

    ReorderBuffer(window, *, next_expected=0, timeout_ns=0, resync_after=4, history=1024)
    `window` (1..2**20) slots; `timeout_ns` 0 disables the timeout; `resync_after` 0 disables
    resync by agreement, else >= 2; `history` (1..2**24, rounded up to 64) is how many sequence
    numbers below the watermark are remembered as delivered or lost. `next_expected` 2**64 makes an
    exhausted stream (the value `next_expected` reports once 2**64-1 was delivered).
    """

    def __cinit__(self, window, *, next_expected=0, timeout_ns=0, resync_after=4, history=1024):
        self.ring_seq = NULL
        self.ring_size = NULL
        self.slot_obj = NULL
        self.scratch = NULL
        self.history_words = NULL
        self.window_size = 0
        self.lock_ready = False
        window = ranged_arg(window, "window", 1, MAX_WINDOW)
        next_expected = ranged_arg(next_expected, "next_expected", 0, (<object>UINT64_MAX) + 1)
        timeout_ns = ranged_arg(timeout_ns, "timeout_ns", 0, INT64_MAX)
        resync_after = int_arg(resync_after, "resync_after")
        if resync_after != 0 and not 2 <= resync_after <= UINT64_MAX:
            raise ValueError(f"resync_after must be 0 (off) or >= 2, got {resync_after}")
        history = ranged_arg(history, "history", 1, MAX_HISTORY)

        cdef uint64_t w = window
        cdef uint64_t h = (<uint64_t>history + 63) & ~(<uint64_t>63)
        if rs2_lock_init(&self.lock) != 0:
            raise MemoryError("cannot allocate the reorder lock")
        self.lock_ready = True
        self.ring_seq = <uint64_t*>PyMem_RawCalloc(w, sizeof(uint64_t))
        self.ring_size = <Py_ssize_t*>PyMem_RawCalloc(w, sizeof(Py_ssize_t))
        self.slot_obj = <PyObject**>PyMem_RawCalloc(w, sizeof(PyObject*))
        self.scratch = <PyObject**>PyMem_RawCalloc(w + 1, sizeof(PyObject*))
        self.history_words = <uint64_t*>PyMem_RawCalloc(h >> 6, sizeof(uint64_t))
        if (self.ring_seq == NULL or self.ring_size == NULL or self.slot_obj == NULL
                or self.scratch == NULL or self.history_words == NULL):
            raise MemoryError("cannot allocate the reorder ring")
        self.window_size = w
        self.history_size = h
        self.exhausted = next_expected > UINT64_MAX      # 2**64: a stream that delivered 2**64-1
        self.next_seq = UINT64_MAX if self.exhausted else next_expected
        self.next_slot = self.next_seq % w
        self.history_index = self.next_seq % h
        self.history_start = self.next_seq
        self.count = 0
        self.bytes_buffered = 0
        self.timeout = timeout_ns
        self.resync_threshold = resync_after
        self.last_progress = 0
        self.started = False
        self.lost_total = 0
        self.lost_high = 0
        self.delivered_total = 0
        self.resync_total = 0
        self.stored_total = 0
        self.run_length = 0
        self.run_last = 0

    def __init__(self, window, *, next_expected=0, timeout_ns=0, resync_after=4, history=1024):
        # Everything is checked and set up in __cinit__; this gives the class its signature.
        pass

    def __dealloc__(self):
        cdef uint64_t i
        cdef PyObject* obj
        if self.slot_obj != NULL:
            for i in range(self.window_size):
                obj = self.slot_obj[i]
                self.slot_obj[i] = NULL
                Py_XDECREF(obj)
        PyMem_RawFree(self.ring_seq)
        PyMem_RawFree(self.ring_size)
        PyMem_RawFree(self.slot_obj)
        PyMem_RawFree(self.scratch)
        PyMem_RawFree(self.history_words)
        if self.lock_ready:
            rs2_lock_free(&self.lock)

    # --- kernels (lock held; no Python objects touched) ----------------------------------

    cdef void _advance(self, bint delivered) noexcept nogil:
        # Record `next_seq` as delivered or lost in the history, then move the watermark on by one.
        cdef uint64_t bit = (<uint64_t>1) << (self.history_index & 63)
        if delivered:
            self.history_words[self.history_index >> 6] |= bit
        else:
            self.history_words[self.history_index >> 6] &= ~bit
        if self.next_seq == UINT64_MAX:
            self.exhausted = True
            return
        self.next_seq += 1
        self.next_slot += 1
        if self.next_slot == self.window_size:
            self.next_slot = 0
        self.history_index += 1
        if self.history_index == self.history_size:
            self.history_index = 0

    cdef void _add_lost(self, uint64_t k) noexcept nogil:
        # 128-bit total: jumps after a backward restart can add up past 2**64.
        self.lost_total += k
        if self.lost_total < k:
            self.lost_high += 1

    cdef void _deliver(self, PyObject* item, PyObject** out, Py_ssize_t* released) noexcept nogil:
        out[released[0]] = item
        released[0] += 1
        self.delivered_total += 1
        self._advance(True)

    cdef bint _head_buffered(self) noexcept nogil:
        # Is `next_seq` itself in the ring? Its slot may instead hold next_seq + window.
        return self.slot_obj[self.next_slot] != NULL and self.ring_seq[self.next_slot] == self.next_seq

    cdef void _drain(self, PyObject** out, Py_ssize_t* released) noexcept nogil:
        # Release the consecutive buffered run starting at the watermark.
        cdef PyObject* obj
        while self.count != 0 and self._head_buffered():
            obj = self.slot_obj[self.next_slot]
            self.slot_obj[self.next_slot] = NULL
            self.count -= 1
            self.bytes_buffered -= self.ring_size[self.next_slot]
            self._deliver(obj, out, released)

    cdef void _skip_to(self, uint64_t seq) noexcept nogil:
        # Declare [next_seq, seq) lost and move the watermark to seq. Needs an empty ring.
        cdef uint64_t k = seq - self.next_seq
        cdef uint64_t j, idx
        if k == 0:
            return
        self._add_lost(k)
        if k >= self.history_size:
            memset(self.history_words, 0, (self.history_size >> 6) * sizeof(uint64_t))
        else:
            idx = self.history_index
            for j in range(k):
                self.history_words[idx >> 6] &= ~((<uint64_t>1) << (idx & 63))
                idx += 1
                if idx == self.history_size:
                    idx = 0
        self.next_seq = seq
        self.next_slot = seq % self.window_size
        self.history_index = seq % self.history_size

    cdef void _restart_at(self, uint64_t seq) noexcept nogil:
        # Forget the history and restart the stream at seq (backward resync). Needs an empty ring.
        self.next_seq = seq
        self.exhausted = False
        self.history_start = seq
        self.next_slot = seq % self.window_size
        self.history_index = seq % self.history_size

    cdef bint _timed_out(self, int64_t now) noexcept nogil:
        return (self.timeout > 0 and now >= self.last_progress
                and <uint64_t>now - <uint64_t>self.last_progress >= <uint64_t>self.timeout)

    cdef int _old_status(self, uint64_t seq) noexcept nogil:
        # seq is below the watermark: DUPLICATE if remembered as delivered, else LATE.
        cdef uint64_t dist1 = self.next_seq - seq - 1 + <uint64_t>self.exhausted   # watermark - seq - 1
        cdef uint64_t idx
        if seq < self.history_start or dist1 >= self.history_size:
            return REORDER_LATE
        idx = seq % self.history_size
        if (self.history_words[idx >> 6] >> (idx & 63)) & 1:
            return REORDER_DUPLICATE
        return REORDER_LATE

    cdef int _reject(self, uint64_t seq, PyObject* item, int status, int far, int64_t now,
                     PyObject** out, Py_ssize_t* released) noexcept nogil:
        # A rejected chunk; far from the watermark it may complete a resync run.
        if far == FAR_NONE or self.resync_threshold == 0:
            return status
        if self.run_length != 0 and self.run_last != UINT64_MAX and seq == self.run_last + 1:
            self.run_length += 1
        else:
            self.run_length = 1
        self.run_last = seq
        if self.run_length < self.resync_threshold:
            return status
        return self._jump(seq, item, far == FAR_AHEAD, now, out, released)

    cdef int _below(self, uint64_t seq, PyObject* item, int64_t now,
                    PyObject** out, Py_ssize_t* released) noexcept nogil:
        # Old chunks count towards a backward resync (a producer that restarted) only when they
        # lie beyond the history, or when the stream made no progress for the timeout: a burst of
        # retransmissions or of chunks skipped by a forward resync must not move the stream back.
        cdef uint64_t dist1 = self.next_seq - seq - 1 + <uint64_t>self.exhausted
        cdef int far = FAR_NONE
        if dist1 >= self.window_size and (seq < self.history_start or dist1 >= self.history_size
                                  or self._timed_out(now)):
            far = FAR_BEHIND
        return self._reject(seq, item, self._old_status(seq), far, now, out, released)

    cdef int _store(self, uint64_t seq, uint64_t d, PyObject* item, Py_ssize_t size,
                    int64_t now) noexcept nogil:
        # Put seq = next_seq + d (1 <= d <= window, slot free) into the ring.
        cdef uint64_t slot = self.next_slot + d
        if slot >= self.window_size:
            slot -= self.window_size
        self.slot_obj[slot] = item
        self.ring_seq[slot] = seq
        self.ring_size[slot] = size
        self.bytes_buffered += size
        if self.count == 0:
            self.last_progress = now      # the oldest hole starts blocking now
        self.count += 1
        self.stored_total += 1
        self.run_length = 0
        return REORDER_ACCEPTED

    cdef int _accept_next(self, PyObject* item, int64_t now,
                          PyObject** out, Py_ssize_t* released) noexcept nogil:
        # item is the next expected one: deliver it and every consecutive buffered one.
        self._deliver(item, out, released)
        self._drain(out, released)
        self.run_length = 0
        self.last_progress = now
        return REORDER_ACCEPTED

    cdef int _jump(self, uint64_t seq, PyObject* item, bint ahead, int64_t now,
                   PyObject** out, Py_ssize_t* released) noexcept nogil:
        # Resync: release everything buffered, move the stream to seq (ahead: the skipped
        # numbers are lost; behind: a restarted producer) and deliver item.
        self._flush(out, released)
        if ahead:
            self._skip_to(seq)
        else:
            self._restart_at(seq)
        self._deliver(item, out, released)
        self.resync_total += 1
        self.run_length = 0
        self.last_progress = now
        return REORDER_ACCEPTED

    cdef int _insert(self, uint64_t seq, PyObject* item, Py_ssize_t size, int64_t now,
                     PyObject** out, Py_ssize_t* released) noexcept nogil:
        cdef uint64_t d, slot
        if not self.started:
            self.started = True
            self.last_progress = now
        if self.exhausted or seq < self.next_seq:
            return self._below(seq, item, now, out, released)
        d = seq - self.next_seq
        if d == 0:
            return self._accept_next(item, now, out, released)
        if d <= self.window_size:
            slot = self.next_slot + d
            if slot >= self.window_size:
                slot -= self.window_size
            if self.slot_obj[slot] != NULL and self.ring_seq[slot] == seq:
                return REORDER_DUPLICATE
        if self._timed_out(now):
            self._expire(now, out, released)
            if self.exhausted or seq < self.next_seq:
                return self._below(seq, item, now, out, released)
            d = seq - self.next_seq
            if d == 0:
                return self._accept_next(item, now, out, released)
            if d > self.window_size:
                return self._jump(seq, item, True, now, out, released)
            return self._store(seq, d, item, size, now)
        if self.count == self.window_size:
            return self._reject(seq, item, REORDER_OVERFLOW, FAR_AHEAD, now, out, released)
        if d > self.window_size:
            return self._reject(seq, item, REORDER_GAP, FAR_AHEAD, now, out, released)
        return self._store(seq, d, item, size, now)

    cdef uint64_t _expire(self, int64_t now, PyObject** out, Py_ssize_t* released) noexcept nogil:
        cdef uint64_t lost = 0
        if self.count == 0 or not self._timed_out(now):
            return 0
        while not self._head_buffered():
            lost += 1
            self._advance(False)
        self._add_lost(lost)
        self._drain(out, released)
        self.last_progress = now
        return lost

    cdef uint64_t _flush(self, PyObject** out, Py_ssize_t* released) noexcept nogil:
        cdef uint64_t lost = 0
        while self.count != 0:
            if self._head_buffered():
                self._drain(out, released)
            else:
                lost += 1
                self._advance(False)
        self._add_lost(lost)
        return lost

    # --- Python API ----------------------------------------------------------------------

    def insert(self, seq, item, now_ns, list ready not None):
        """Insert one chunk `item` with sequence number `seq` at time `now_ns` (any monotonic
        nanosecond clock). Items that become deliverable are appended to `ready` in order.
        Returns the status: ACCEPTED, DUPLICATE, LATE, GAP or OVERFLOW."""
        cdef uint64_t s = uint64_arg(seq, "seq")
        cdef int64_t now = int64_arg(now_ns, "now_ns")
        cdef int status
        cdef int failed
        cdef Py_ssize_t released = 0
        cdef PyObject* obj = <PyObject*>item
        Py_XINCREF(obj)                      # the kernel takes this reference if it keeps item
        rs2_lock_gil(&self.lock)
        status = self._insert(s, obj, _item_size(obj), now, self.scratch, &released)
        failed = _append_all(ready, self.scratch, released)
        rs2_unlock(&self.lock)
        if status != REORDER_ACCEPTED:
            Py_XDECREF(obj)
        if failed:
            raise MemoryError("could not append released items to ready")
        return status

    def insert_batch(self, seqs, list items not None, now_ns, statuses, list ready not None):
        """Insert `items[i]` with sequence number `seqs[i]` for every i, at time `now_ns`, with the
        GIL released for the ring work. `seqs`: C-contiguous uint64 buffer (numpy.uint64 array,
        array('Q')); `statuses`: writable uint8 buffer of the same length, receives each item's
        status. Same results as calling insert() per item. Returns how many items were appended
        to `ready`."""
        # Every argument is converted (which may run the caller's code) before `items` is
        # measured; from then on no Python code runs until the items are staged.
        cdef int64_t now = int64_arg(now_ns, "now_ns")
        cdef const uint64_t[::1] seq_view
        cdef uint8_t[::1] status_view = _statuses_arg(statuses)
        cdef Py_ssize_t n
        try:
            seq_view = seqs
        except (TypeError, ValueError, BufferError) as exc:
            raise TypeError(f"seqs must be a C-contiguous uint64 buffer (numpy.uint64 array or "
                            f"array('Q')): {exc}") from None
        n = seq_view.shape[0]
        if PyList_GET_SIZE(items) != n:
            raise ValueError(f"items has {PyList_GET_SIZE(items)} entries but seqs has {n}")
        if status_view.shape[0] != n:
            raise ValueError(f"statuses has {status_view.shape[0]} entries but seqs has {n}")
        if n == 0:
            return 0
        return self._insert_many(n, &seq_view[0], items, now, &status_view[0], ready)

    def insert_chunks(self, list chunks not None, now_ns, statuses, list ready not None):
        """insert_batch for a list of MediaChunks, each inserted under its own sequence number
        (read in C, no seqs buffer needed). Returns how many items were appended to `ready`."""
        cdef int64_t now = int64_arg(now_ns, "now_ns")
        cdef uint8_t[::1] status_view = _statuses_arg(statuses)
        cdef Py_ssize_t n = PyList_GET_SIZE(chunks), i      # measured after every conversion
        cdef uint64_t* seqs
        cdef PyObject* chunk
        if status_view.shape[0] != n:
            raise ValueError(f"statuses has {status_view.shape[0]} entries but chunks has {n}")
        if n == 0:
            return 0
        seqs = <uint64_t*>PyMem_RawMalloc(n * sizeof(uint64_t))
        if seqs == NULL:
            raise MemoryError("cannot allocate the batch arrays")
        try:
            for i in range(n):
                chunk = PyList_GET_ITEM(chunks, i)
                if type(<object>chunk) is not MediaChunk:
                    raise TypeError(f"chunks[{i}] must be a MediaChunk, "
                                    f"not {type(<object>chunk).__name__}")
                seqs[i] = (<MediaChunk>chunk).seq
            return self._insert_many(n, seqs, chunks, now, &status_view[0], ready)
        finally:
            PyMem_RawFree(seqs)

    cdef Py_ssize_t _insert_many(self, Py_ssize_t n, const uint64_t* seqs, list items, int64_t now,
                                 uint8_t* statuses, list ready) except -1:
        # The batch kernel: one owned reference per item, taken with the GIL (the caller
        # guarantees items has n entries and that no Python code ran since it checked); the ring
        # work moves them with the GIL released; rejected ones are dropped with the GIL again.
        cdef Py_ssize_t i, released = 0
        cdef int failed = 0
        cdef PyObject** staged = <PyObject**>PyMem_RawMalloc(n * sizeof(PyObject*))
        cdef Py_ssize_t* sizes = <Py_ssize_t*>PyMem_RawMalloc(n * sizeof(Py_ssize_t))
        cdef PyObject** out = <PyObject**>PyMem_RawMalloc(
            (n + <Py_ssize_t>self.window_size) * sizeof(PyObject*))
        if staged == NULL or sizes == NULL or out == NULL:
            PyMem_RawFree(staged)
            PyMem_RawFree(sizes)
            PyMem_RawFree(out)
            raise MemoryError("cannot allocate the batch arrays")
        for i in range(n):
            staged[i] = PyList_GET_ITEM(items, i)
            Py_XINCREF(staged[i])
            sizes[i] = _item_size(staged[i])
        with nogil:
            rs2_lock_nogil(&self.lock)
            for i in range(n):
                statuses[i] = <uint8_t>self._insert(seqs[i], staged[i], sizes[i], now, out,
                                                    &released)
                if statuses[i] == REORDER_ACCEPTED:
                    staged[i] = NULL     # the ring or `out` owns it now
            rs2_unlock(&self.lock)
        failed = _append_all(ready, out, released)
        for i in range(n):
            Py_XDECREF(staged[i])            # rejected items
        PyMem_RawFree(staged)
        PyMem_RawFree(sizes)
        PyMem_RawFree(out)
        if failed:
            raise MemoryError("could not append released items to ready")
        return released

    def expire(self, now_ns, list ready not None):
        """If something is buffered and nothing was delivered for `timeout_ns`, declare the
        holes before the lowest buffered chunk lost and release its consecutive run to `ready`.
        Returns the number of sequence numbers declared lost."""
        cdef int64_t now = int64_arg(now_ns, "now_ns")
        cdef uint64_t lost
        cdef int failed
        cdef Py_ssize_t released = 0
        rs2_lock_gil(&self.lock)
        lost = self._expire(now, self.scratch, &released)
        failed = _append_all(ready, self.scratch, released)
        rs2_unlock(&self.lock)
        if failed:
            raise MemoryError("could not append released items to ready")
        return lost

    def flush(self, list ready not None):
        """Release everything buffered to `ready` in order, declaring every hole lost (the
        watermark ends one past the highest buffered seq). Returns the number declared lost."""
        cdef uint64_t lost
        cdef int failed
        cdef Py_ssize_t released = 0
        rs2_lock_gil(&self.lock)
        lost = self._flush(self.scratch, &released)
        failed = _append_all(ready, self.scratch, released)
        rs2_unlock(&self.lock)
        if failed:
            raise MemoryError("could not append released items to ready")
        return lost

    cdef Py_ssize_t _snapshot(self, uint64_t* seqs, PyObject** objs) noexcept:
        # Copy the buffered seqs (and new references to their items) in order; lock held.
        cdef uint64_t slot = self.next_slot
        cdef Py_ssize_t k = 0
        while <uint64_t>k < self.count:
            slot += 1
            if slot == self.window_size:
                slot = 0
            if self.slot_obj[slot] != NULL:
                seqs[k] = self.ring_seq[slot]
                if objs != NULL:
                    objs[k] = self.slot_obj[slot]
                    Py_XINCREF(objs[k])
                k += 1
        return k

    def buffered_sequences(self):
        """The buffered sequence numbers, ascending."""
        cdef uint64_t* seqs = <uint64_t*>PyMem_RawMalloc(self.window_size * sizeof(uint64_t))
        cdef Py_ssize_t k, i
        if seqs == NULL:
            raise MemoryError()
        rs2_lock_gil(&self.lock)
        k = self._snapshot(seqs, NULL)
        rs2_unlock(&self.lock)
        try:
            return [seqs[i] for i in range(k)]
        finally:
            PyMem_RawFree(seqs)

    def buffered_items(self):
        """The buffered items, in sequence order (they stay buffered)."""
        cdef uint64_t* seqs = <uint64_t*>PyMem_RawMalloc(self.window_size * sizeof(uint64_t))
        cdef PyObject** objs = <PyObject**>PyMem_RawMalloc(self.window_size * sizeof(PyObject*))
        cdef Py_ssize_t k = 0, i
        cdef list result = []
        if seqs == NULL or objs == NULL:
            PyMem_RawFree(seqs)
            PyMem_RawFree(objs)
            raise MemoryError()
        rs2_lock_gil(&self.lock)
        k = self._snapshot(seqs, objs)
        rs2_unlock(&self.lock)
        _append_all(result, objs, k)
        PyMem_RawFree(seqs)
        PyMem_RawFree(objs)
        if len(result) != k:
            raise MemoryError()
        return result

    # --- counters ------------------------------------------------------------------------

    cdef uint64_t _read(self, const uint64_t* field) noexcept:
        # One counter, read under the lock.
        cdef uint64_t value
        rs2_lock_gil(&self.lock)
        value = field[0]
        rs2_unlock(&self.lock)
        return value

    @property
    def next_expected(self):
        """The delivered watermark: every seq below it was delivered or declared lost
        (2**64 once 2**64-1 was delivered)."""
        cdef uint64_t next_seq
        cdef bint exhausted
        rs2_lock_gil(&self.lock)
        next_seq = self.next_seq
        exhausted = self.exhausted
        rs2_unlock(&self.lock)
        return (<object>next_seq) + 1 if exhausted else next_seq

    @property
    def buffered(self):
        """Number of chunks waiting in the ring."""
        return self._read(&self.count)

    @property
    def buffered_bytes(self):
        """Data bytes of the chunks waiting in the ring (MediaChunk data lengths; other items
        count 0)."""
        return <int64_t>self._read(<uint64_t*>&self.bytes_buffered)

    @property
    def window(self):
        """Ring size: chunks up to `window` ahead of the watermark are buffered."""
        return self.window_size

    @property
    def lost(self):
        """Sequence numbers declared lost, ever (holes skipped by expiry, flush or resync)."""
        cdef uint64_t low, high
        rs2_lock_gil(&self.lock)
        low = self.lost_total
        high = self.lost_high
        rs2_unlock(&self.lock)
        return ((<object>high) << 64) | low

    @property
    def delivered(self):
        """Items released in order, ever."""
        return self._read(&self.delivered_total)

    @property
    def stored(self):
        """Items that waited in the ring because they arrived ahead of a hole, ever."""
        return self._read(&self.stored_total)

    @property
    def resyncs(self):
        """Times the stream jumped to a new position (by agreement or after a timeout)."""
        return self._read(&self.resync_total)

    @property
    def last_progress_ns(self):
        """When the watermark last advanced (or the first insert, or a chunk was buffered into
        an empty ring); the timeout counts from here."""
        return <int64_t>self._read(<uint64_t*>&self.last_progress)

    @property
    def timeout_ns(self):
        """Time without progress after which holes are declared lost (0: never)."""
        return self.timeout

    @property
    def resync_after(self):
        """Consecutive far-off rejected chunks that move the stream (0: never)."""
        return self.resync_threshold

    @property
    def history(self):
        """How many sequence numbers below the watermark are remembered (multiple of 64)."""
        return self.history_size

    def __repr__(self):
        return (f"ReorderBuffer(window={self.window_size}, next_expected={self.next_expected}, "
                f"buffered={self.buffered}, lost={self.lost}, resyncs={self.resyncs})")
