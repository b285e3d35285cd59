"""BatchCursor: the per-item path of a stream that is filled a batch at a time.

A stream's producer hands over chunks in batches (lists); the consumer's `for` / `async for` takes
them one by one. BatchCursor keeps the batch in hand and serves `__next__` / `__anext__` from it in
C; only when the batch is used up does it call the subclass's `_fetch(max_items)` (blocking, for
`for`) or `_afetch(max_items)` (a coroutine, for `async for`), which return the next non-empty list
of at most `max_items` chunks, or None at the end. A fetched batch is stored before anything else
can run, so a cancelled `async for` step loses nothing: the chunks stay in hand for the next step.
`batches()` gives the same chunks as ChunkBatch objects instead, for consumers that work on columns.
"""
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF, Py_INCREF

from rs2fast._args cimport count_arg
from rs2fast._batch cimport ChunkBatch, batch_from_list
from rs2fast._cpython cimport list_set_item_owned


cdef class BatchCursor:
    """BatchCursor(*args, **kwargs)
--

Iterator and async iterator over batches that a subclass fetches (`_fetch`, `_afetch`).

    `fetch_size` is how many chunks one fetch asks for.
    """

    cdef list _batch
    cdef Py_ssize_t _pos
    cdef public Py_ssize_t fetch_size

    def __cinit__(self, *args, **kwargs):
        self._batch = []
        self._pos = 0
        self.fetch_size = 64

    cdef inline object _take_in_hand(self):
        # The next chunk of the batch in hand, or None when it is used up. The list slot is
        # cleared so that a chunk lives no longer than its consumer keeps it.
        cdef PyObject* item
        if self._pos >= PyList_GET_SIZE(self._batch):
            return None
        item = PyList_GET_ITEM(self._batch, self._pos)
        Py_INCREF(None)
        list_set_item_owned(self._batch, self._pos, <PyObject*>None)
        self._pos += 1
        result = <object>item
        Py_DECREF(result)        # the reference the list held is now the caller's
        return result

    cdef object _hold(self, object batch):
        if type(batch) is not list:
            batch = list(batch)
        self._batch = batch
        self._pos = 0
        return self._take_in_hand()

    @property
    def in_hand(self):
        """Chunks fetched from the producer but not yet handed out."""
        return PyList_GET_SIZE(self._batch) - self._pos

    def __iter__(self):
        return self

    def __next__(self):
        item = self._take_in_hand()
        while item is None:
            batch = self._fetch(self.fetch_size)
            if batch is None:
                raise StopIteration
            item = self._hold(batch)
        return item

    def __aiter__(self):
        return self

    async def __anext__(self):
        item = self._take_in_hand()
        while item is None:
            batch = await self._afetch(self.fetch_size)
            if batch is None:
                raise StopAsyncIteration
            item = self._hold(batch)
        return item

    def batches(self, max_chunks=None):
        """The rest of the stream as ChunkBatch objects of at most `max_chunks` chunks (default:
        whatever the producer has ready, up to 1024), for `for` and `async for`; the chunks in hand
        come first. Mixing this with per-chunk iteration is fine: each chunk is given out once."""
        return BatchIterator(self, 1024 if max_chunks is None else count_arg(max_chunks, "max_chunks"))

    cdef ChunkBatch _in_hand_batch(self, Py_ssize_t limit):
        # Up to `limit` chunks in hand as a batch (None if there are none).
        cdef Py_ssize_t end
        if self._pos >= PyList_GET_SIZE(self._batch):
            return None
        end = min(self._pos + limit, PyList_GET_SIZE(self._batch))
        taken = self._batch[self._pos:end]
        self._batch = self._batch[end:]      # keep no reference to what was handed out
        self._pos = 0
        return batch_from_list(taken)


cdef class BatchIterator:
    """BatchIterator(cursor, max_chunks)
--

`cursor.batches()`: ChunkBatch objects, sync and async."""

    cdef BatchCursor cursor
    cdef Py_ssize_t max_chunks

    def __cinit__(self, BatchCursor cursor, Py_ssize_t max_chunks):
        if max_chunks < 1:
            raise ValueError(f"max_chunks must be at least 1, got {max_chunks}")
        self.cursor = cursor
        self.max_chunks = max_chunks

    def __iter__(self):
        return self

    def __next__(self):
        batch = self.cursor._in_hand_batch(self.max_chunks)
        if batch is not None:
            return batch
        chunks = self.cursor._fetch(self.max_chunks)
        if chunks is None:
            raise StopIteration
        return batch_from_list(chunks if type(chunks) is list else list(chunks))

    def __aiter__(self):
        return self

    async def __anext__(self):
        batch = self.cursor._in_hand_batch(self.max_chunks)
        if batch is not None:
            return batch
        chunks = await self.cursor._afetch(self.max_chunks)
        if chunks is None:
            raise StopAsyncIteration
        return batch_from_list(chunks if type(chunks) is list else list(chunks))
