# C-level view of the per-stream ring reorder buffer, for other extensions to cimport.
cimport cython
from cpython.object cimport PyObject
from libc.stdint cimport int64_t, uint8_t, uint64_t

from rs2fast._lock cimport rs2_lock_t


# Per-chunk outcome of ReorderBuffer.insert (mirrored as module constants ACCEPTED..OVERFLOW).
cdef enum ReorderStatus:
    REORDER_ACCEPTED = 0
    REORDER_DUPLICATE = 1
    REORDER_LATE = 2
    REORDER_GAP = 3
    REORDER_OVERFLOW = 4


@cython.final
cdef class ReorderBuffer:
    # The sequence watermark: `next_seq` is the next expected seq; once 2**64-1 was delivered,
    # `exhausted` is set (the logical watermark is then 2**64 and next_seq stays 2**64-1).
    cdef uint64_t next_seq
    cdef bint exhausted
    cdef uint64_t window_size       # the ring's slot count
    cdef uint64_t next_slot         # next_seq % window_size, kept incrementally
    cdef uint64_t count             # buffered items
    cdef int64_t bytes_buffered     # the sizes of the buffered items (MediaChunk data length)
    # The ring: slot = seq % window_size. `ring_seq` and `ring_size` hold integers only;
    # `slot_obj` is the slot table of owned object references (NULL = empty), changed only
    # under the lock.
    cdef uint64_t* ring_seq
    cdef Py_ssize_t* ring_size
    cdef PyObject** slot_obj
    cdef PyObject** scratch         # window_size + 1 released references, per-item calls only
    # Delivered (1) / declared-lost (0) bits for the last `history_size` seqs below the watermark.
    cdef uint64_t* history_words
    cdef uint64_t history_size      # a multiple of 64
    cdef uint64_t history_index     # next_seq % history_size, kept incrementally
    cdef uint64_t history_start     # seqs below this are unknown (epoch start)
    # Settings and counters.
    cdef int64_t timeout            # timeout_ns (0: off)
    cdef uint64_t resync_threshold  # resync_after (0: off)
    cdef int64_t last_progress
    cdef bint started
    cdef uint64_t lost_total        # low and high words of the lost count
    cdef uint64_t lost_high
    cdef uint64_t delivered_total
    cdef uint64_t resync_total
    cdef uint64_t stored_total      # chunks that waited in the ring (arrived ahead of a hole)
    # The current run of rejected chunks far from the watermark.
    cdef uint64_t run_length
    cdef uint64_t run_last
    cdef rs2_lock_t lock
    cdef bint lock_ready

    # Kernels: call with the lock held. `out` receives owned references to released items
    # in order, `released` is advanced. `item` is an owned reference, consumed unless the result is
    # a rejection (status != REORDER_ACCEPTED), in which case the caller still owns it.
    cdef int _insert(self, uint64_t seq, PyObject* item, Py_ssize_t size, int64_t now,
                     PyObject** out, Py_ssize_t* released) noexcept nogil
    cdef uint64_t _expire(self, int64_t now, PyObject** out, Py_ssize_t* released) noexcept nogil
    cdef uint64_t _flush(self, PyObject** out, Py_ssize_t* released) noexcept nogil
    # Helpers of the kernels (same locking rule).
    cdef void _advance(self, bint delivered) noexcept nogil
    cdef void _add_lost(self, uint64_t k) noexcept nogil
    cdef void _deliver(self, PyObject* item, PyObject** out, Py_ssize_t* released) noexcept nogil
    cdef bint _head_buffered(self) noexcept nogil
    cdef void _drain(self, PyObject** out, Py_ssize_t* released) noexcept nogil
    cdef void _skip_to(self, uint64_t seq) noexcept nogil
    cdef void _restart_at(self, uint64_t seq) noexcept nogil
    cdef bint _timed_out(self, int64_t now) noexcept nogil
    cdef int _old_status(self, uint64_t seq) noexcept nogil
    cdef int _reject(self, uint64_t seq, PyObject* item, int status, int far, int64_t now,
                     PyObject** out, Py_ssize_t* released) noexcept nogil
    cdef int _below(self, uint64_t seq, PyObject* item, int64_t now,
                    PyObject** out, Py_ssize_t* released) noexcept nogil
    cdef int _accept_next(self, PyObject* item, int64_t now,
                          PyObject** out, Py_ssize_t* released) noexcept nogil
    cdef int _jump(self, uint64_t seq, PyObject* item, bint ahead, int64_t now,
                   PyObject** out, Py_ssize_t* released) noexcept nogil
    cdef int _store(self, uint64_t seq, uint64_t d, PyObject* item, Py_ssize_t size,
                    int64_t now) noexcept nogil
    cdef Py_ssize_t _insert_many(self, Py_ssize_t n, const uint64_t* seqs, list items, int64_t now,
                                 uint8_t* statuses, list ready) except -1
    cdef Py_ssize_t _snapshot(self, uint64_t* seqs, PyObject** objs) noexcept
    cdef uint64_t _read(self, const uint64_t* field) noexcept
