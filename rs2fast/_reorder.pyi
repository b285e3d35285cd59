"""Per-stream ring reorder buffer (compiled)."""
from typing import Any, Final, SupportsIndex, final

from typing_extensions import Buffer

from rs2fast._chunk import MediaChunk

ACCEPTED: Final[int]
DUPLICATE: Final[int]
LATE: Final[int]
GAP: Final[int]
OVERFLOW: Final[int]
STATUS_NAMES: Final[tuple[str, str, str, str, str]]
MAX_WINDOW: Final[int]
MAX_HISTORY: Final[int]

@final
class ReorderBuffer:
    """One stream's reorder buffer: insert chunks in any order, get them back in sequence order."""

    def __init__(self, window: SupportsIndex, *, next_expected: SupportsIndex = 0,
                 timeout_ns: SupportsIndex = 0, resync_after: SupportsIndex = 4,
                 history: SupportsIndex = 1024) -> None: ...
    def insert(self, seq: SupportsIndex, item: Any, now_ns: SupportsIndex,
               ready: list[Any]) -> int:
        """Insert one item; released items are appended to `ready`; returns its status."""
    def insert_batch(self, seqs: Buffer, items: list[Any], now_ns: SupportsIndex,
                     statuses: Buffer, ready: list[Any]) -> int:
        """Insert a batch (uint64 seqs, uint8 statuses out) with the GIL released; returns
        how many items were appended to `ready`."""
    def insert_chunks(self, chunks: list[MediaChunk], now_ns: SupportsIndex, statuses: Buffer,
                      ready: list[Any]) -> int:
        """insert_batch for MediaChunks, each under its own sequence number; returns how many
        items were appended to `ready`."""
    def expire(self, now_ns: SupportsIndex, ready: list[Any]) -> int:
        """Release through the lowest buffered run after a timeout; returns seqs declared lost."""
    def flush(self, ready: list[Any]) -> int:
        """Release everything buffered in order; returns seqs declared lost."""
    def buffered_sequences(self) -> list[int]:
        """The buffered sequence numbers, ascending."""
    def buffered_items(self) -> list[Any]:
        """The buffered items in sequence order (they stay buffered)."""
    @property
    def next_expected(self) -> int:
        """The delivered watermark (2**64 once 2**64-1 was delivered)."""
    @property
    def buffered(self) -> int:
        """Number of chunks waiting in the ring."""
    @property
    def buffered_bytes(self) -> int:
        """Data bytes of the chunks waiting in the ring (MediaChunk data lengths)."""
    @property
    def window(self) -> int:
        """Ring size."""
    @property
    def lost(self) -> int:
        """Sequence numbers declared lost, ever."""
    @property
    def delivered(self) -> int:
        """Items released in order, ever."""
    @property
    def stored(self) -> int:
        """Items that waited in the ring because they arrived ahead of a hole, ever."""
    @property
    def resyncs(self) -> int:
        """Times the stream jumped to a new position."""
    @property
    def last_progress_ns(self) -> int:
        """Time the timeout counts from."""
    @property
    def timeout_ns(self) -> int:
        """Time without progress after which holes are declared lost (0: never)."""
    @property
    def resync_after(self) -> int:
        """Consecutive far-off rejected chunks that move the stream (0: never)."""
    @property
    def history(self) -> int:
        """How many sequence numbers below the watermark are remembered."""
