# C-level view of ChunkBatch, for the other extensions to cimport.
from libc.stdint cimport int64_t


cdef class ChunkBatch:
    cdef list chunks               # MediaChunks; never changed after construction
    cdef bytes packed              # the fields of every chunk, column after column (None until built)
    cdef Py_ssize_t packed_start   # where the columns start in `packed` (8-byte aligned)
    cdef object sequence_col       # cached numpy views of `packed` (None until first asked for)
    cdef object type_col
    cdef object priority_col
    cdef object size_col
    cdef object timestamp_col
    cdef object crc_col            # CRC-32C values (its own buffer: the column may not apply)
    cdef int64_t total             # sum of the chunk sizes, once `packed` is built

    cdef int build_columns(self) except -1
    cdef object column(self, str dtype, Py_ssize_t at)


# A batch over `chunks` without copying the list: the batch owns it from now on (the caller must not
# change it). Raises TypeError naming the first item that is not a MediaChunk.
cdef ChunkBatch batch_from_list(list chunks)
