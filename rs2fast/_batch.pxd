# C-level view of ChunkBatch, for the other extensions to cimport.
from libc.stdint cimport int64_t


cdef class ChunkBatch:
    cdef list chunks               # MediaChunks; never changed after construction
    cdef object sequence_col       # cached numpy columns (None until first asked for)
    cdef object type_col
    cdef object priority_col
    cdef object size_col
    cdef object timestamp_col
    cdef object crc_col
    cdef int64_t total             # sum of the chunk sizes; -1 until the columns are built

    cdef int build_columns(self) except -1


# A batch over `chunks` without copying the list: the batch owns it from now on (the caller must not
# change it). Raises TypeError naming the first item that is not a MediaChunk.
cdef ChunkBatch batch_from_list(list chunks)
