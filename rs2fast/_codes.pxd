# Small-integer codes shared by the C kernels (their Python enums live in rs2fast._enums).

# ChunkType values.
cdef enum ChunkTypeCode:
    TYPE_VIDEO_I_FRAME = 0
    TYPE_VIDEO_P_FRAME = 1
    TYPE_VIDEO_B_FRAME = 2
    TYPE_AUDIO = 3
    TYPE_METADATA = 4
    TYPE_THUMBNAIL = 5
    TYPE_COUNT = 6          # number of chunk types

# MediaPriority values.
cdef enum PriorityCode:
    PRIORITY_LOW = 1
    PRIORITY_NORMAL = 2
    PRIORITY_HIGH = 3
