"""rs2fast: fast, trustworthy media chunk streaming, with the API of RS2's media module.

Public names load on first use, so `import rs2fast` stays cheap; type checkers read them from
`__init__.pyi`, which lists the same names.
"""
from __future__ import annotations

import importlib
import logging

__version__ = "0.1.0"

logging.getLogger("rs2fast").addHandler(logging.NullHandler())

_PUBLIC = {
    "rs2fast.types": ("ChunkType", "MediaPriority", "MediaType", "QualityLevel", "MediaChunk",
                      "MediaStream", "StreamMetrics", "RawMediaData"),
    "rs2fast.events": ("MediaStreamEvent", "StreamStarted", "StreamStopped", "QualityChanged",
                       "BufferUnderrun", "ChunkDropped", "UserActivity"),
    "rs2fast.errors": ("Rs2fastError", "CodecError", "ChunkProcessingError", "SequenceGap",
                       "DuplicateChunk", "LateChunk", "BufferOverflow", "ValidationFailed",
                       "ChecksumMismatch", "QueueError", "QueueFull", "QueueEmpty", "QueueClosed",
                       "StreamError", "StreamTruncated", "MediaFormatError", "UnsupportedFormat",
                       "EncodingFailed", "DecodingFailed", "InvalidData", "CodecUnavailable"),
    "rs2fast.codec": ("EncodingConfig", "MediaCodec", "CodecStats", "CodecFactory"),
    "rs2fast.chunk_processor": ("ChunkProcessorConfig", "ChunkProcessor", "ChunkProcessorStats"),
    "rs2fast.priority_queue": ("MediaPriorityQueue", "OverflowPolicy"),
    "rs2fast.streaming": ("MediaStreamingService", "StreamingServiceFactory", "ChunkStream",
                          "SharedChunkStream", "determine_chunk_type", "determine_priority"),
    "rs2fast.container": ("ContainerReader", "ContainerInfo", "probe", "remux"),
    "rs2fast._media_paths": ("is_container_path",),
    "rs2fast.av_codec": ("AvVideoEncoder", "AvAudioEncoder", "AvVideoDecoder", "AvAudioDecoder",
                         "av_available"),
    "rs2fast._chunk": ("crc32c", "checksum_hex", "split_buffer"),
    "rs2fast._batch": ("ChunkBatch",),
}
_WHERE = {name: module for module, names in _PUBLIC.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'rs2fast' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
