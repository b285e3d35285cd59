"""One exception hierarchy for rs2fast, rooted at Rs2fastError.

Messages start with RS2's display text (e.g. "Sequence gap: expected 1, received 5"); every error
carries `stream_id` and `sequence_number` where they are known (None otherwise).

Errors also derive from the builtin their meaning matches, so ordinary `except` clauses work:
bad values and malformed media (ValidationFailed, ChecksumMismatch, InvalidData, UnsupportedFormat,
MediaFormatError) are ValueError; QueueEmpty and QueueFull are `queue.Empty` and `queue.Full`, and,
as they end a wait that ran out of time, TimeoutError too.
"""
from __future__ import annotations

import queue
from typing import Optional


class Rs2fastError(Exception):
    """Base of every error rs2fast raises on purpose."""

    def __init__(self, text: str, *, stream_id: Optional[str] = None,
                 sequence_number: Optional[int] = None) -> None:
        self.text = text
        self.stream_id = stream_id
        self.sequence_number = sequence_number
        where = []
        if stream_id is not None:
            where.append(f"stream {stream_id!r}")
        if sequence_number is not None:
            where.append(f"sequence {sequence_number}")
        super().__init__(f"{text} [{', '.join(where)}]" if where else text)

    def __reduce__(self):
        return (_rebuild, (type(self), self.__dict__.copy(), self.args))


def _rebuild(cls, state, args):
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


# --- codec --------------------------------------------------------------------------------------

class CodecError(Rs2fastError):
    """A frame could not be encoded or a chunk could not be decoded."""


class UnsupportedFormat(CodecError, ValueError):
    """The codec does not handle this kind of media (e.g. video given to an audio codec).

    Also a ValueError: the media handed in is the wrong kind for this codec.
    """

    def __init__(self, detail: str, **where) -> None:
        self.detail = detail
        super().__init__(f"Unsupported format: {detail}", **where)


class EncodingFailed(CodecError):
    """Encoding a frame failed."""

    def __init__(self, detail: str, **where) -> None:
        self.detail = detail
        super().__init__(f"Encoding failed: {detail}", **where)


class DecodingFailed(CodecError):
    """Decoding a chunk failed."""

    def __init__(self, detail: str, **where) -> None:
        self.detail = detail
        super().__init__(f"Decoding failed: {detail}", **where)


class InvalidData(CodecError, ValueError):
    """The input bytes are not acceptable (empty frame, checksum mismatch, bad framing).

    Also a ValueError.
    """

    def __init__(self, detail: str, **where) -> None:
        self.detail = detail
        super().__init__(f"Invalid data: {detail}", **where)


class MediaFormatError(CodecError, ValueError):
    """A container or bitstream is not media, or is damaged. Also a ValueError."""


class CodecUnavailable(CodecError):
    """A real-media path was asked for but its optional dependency is not installed."""


# --- chunk processing ---------------------------------------------------------------------------

class ChunkProcessingError(Rs2fastError):
    """A chunk was rejected by the chunk processor."""


class SequenceGap(ChunkProcessingError):
    """The chunk lies beyond the reorder window: `received > expected + window`."""

    def __init__(self, expected: int, received: int, **where) -> None:
        self.expected = expected
        self.received = received
        where.setdefault("sequence_number", received)
        super().__init__(f"Sequence gap: expected {expected}, received {received}", **where)


class DuplicateChunk(ChunkProcessingError):
    """The sequence number is buffered already or was delivered already."""

    def __init__(self, sequence_number: int, **where) -> None:
        super().__init__(f"Duplicate chunk: {sequence_number}", sequence_number=sequence_number, **where)


class LateChunk(ChunkProcessingError):
    """The chunk arrived after its sequence number had been declared lost (below the watermark)."""

    def __init__(self, sequence_number: int, watermark: int, **where) -> None:
        self.watermark = watermark
        super().__init__(f"Late chunk: {sequence_number} is below the delivered watermark {watermark}",
                         sequence_number=sequence_number, **where)


class BufferOverflow(ChunkProcessingError):
    """A bound on buffered chunks, bytes or streams would be exceeded."""

    def __init__(self, detail: str = "", **where) -> None:
        self.detail = detail
        super().__init__(f"Buffer overflow: {detail}" if detail else "Buffer overflow", **where)


class ValidationFailed(ChunkProcessingError, ValueError):
    """The chunk breaks a validation rule (RS2's rules: ids, data, checksum, size caps).

    Also a ValueError (and so is its subclass ChecksumMismatch).
    """

    def __init__(self, reason: str, **where) -> None:
        self.reason = reason
        super().__init__(f"Validation failed: {reason}", **where)


class ChecksumMismatch(ValidationFailed):
    """The chunk's data does not match its checksum (or the checksum string is malformed).

    Also a ValueError, as every ValidationFailed.
    """

    def __init__(self, reason: str = "Checksum mismatch", **where) -> None:
        super().__init__(reason, **where)


# --- queue --------------------------------------------------------------------------------------

class QueueError(Rs2fastError):
    """A priority-queue operation could not be carried out."""


class QueueFull(QueueError, queue.Full, TimeoutError):
    """The queue is at capacity and the call may not wait (or its timeout ran out).

    Also `queue.Full`, as the standard library's queues raise, and TimeoutError: the wait for room
    ran out of time (a call that may not wait has a timeout of zero).
    """

    def __init__(self, **where) -> None:
        super().__init__("Queue is full", **where)


class QueueEmpty(QueueError, queue.Empty, TimeoutError):
    """Nothing to take: the queue is empty (get_nowait) or stayed empty until the timeout.

    Also `queue.Empty`, as the standard library's queues raise, and TimeoutError: the wait for an
    item ran out of time (get_nowait has a timeout of zero).
    """

    def __init__(self, **where) -> None:
        super().__init__("Queue is empty", **where)


class QueueClosed(QueueError):
    """The queue was closed: nothing more can be enqueued."""

    def __init__(self, **where) -> None:
        super().__init__("Queue is closed", **where)


# --- streaming ----------------------------------------------------------------------------------

class StreamError(Rs2fastError):
    """A media stream could not be produced as asked."""


class StreamTruncated(StreamError):
    """The source file shrank or was replaced while it was being read."""
