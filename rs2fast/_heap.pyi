"""PriorityHeap: a bounded, thread-safe min-max heap of items keyed by (priority, sequence)."""
from typing import Any, SupportsIndex, final

from rs2fast._chunk import MediaChunk

@final
class PriorityHeap:
    """Bounded, thread-safe priority heap of Python objects keyed by (priority, sequence).

    Best first: higher priority, then lower sequence, then earlier arrival (FIFO among equal
    keys). Both ends are O(log n). Never blocks: `push` returns False when full, `pop` raises
    IndexError when empty. Batch calls release the GIL while they sift.
    """

    def __init__(self, capacity: SupportsIndex) -> None: ...
    @property
    def capacity(self) -> int:
        """Maximum number of items (fixed at construction)."""
    @property
    def live_slots(self) -> int:
        """Occupied slots: items held, including those of a batch call still in progress."""
    def __len__(self) -> int: ...
    def __bool__(self) -> bool: ...
    def push(self, item: Any, priority: SupportsIndex, sequence: SupportsIndex) -> bool:
        """Add `item` with key (priority 1..3, sequence 0..2**64-1); False (no change) if full."""
    def push_chunk(self, chunk: MediaChunk) -> bool:
        """Add a MediaChunk keyed by its priority and sequence number; False if full."""
    def push_chunks(self, chunks: list[MediaChunk], start: SupportsIndex = 0) -> int:
        """Push MediaChunks from chunks[start:], in order, until full; return how many were pushed."""
    def pop(self) -> Any:
        """Remove and return the best item; IndexError when empty."""
    def pop_lowest(self) -> Any:
        """Remove and return the worst item (lowest priority, highest sequence, latest arrival)."""
    def pop_batch(self, max_items: SupportsIndex) -> list[Any]:
        """Remove and return up to `max_items` best items, best first."""
    def peek(self) -> Any:
        """Return the best item without removing it; IndexError when empty."""
    def peek_key(self) -> tuple[int, int] | None:
        """(priority, sequence) of the best item, or None when empty."""
    def peek_lowest_key(self) -> tuple[int, int] | None:
        """(priority, sequence) of the worst item, or None when empty."""
    def clear(self) -> list[Any]:
        """Remove every item; return them best first."""
    def keys(self) -> list[tuple[int, int]]:
        """Keys (priority, sequence) of all items, in internal heap order (tests and debugging)."""
    def _set_next_order(self, value: int) -> None: ...
    def _check(self) -> None: ...
