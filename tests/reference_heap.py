"""A tiny pure-Python model of rs2fast._heap.PriorityHeap, the oracle for the heap tests.

Items are kept in a list sorted by (-priority, sequence, arrival), so the best item is first and
the worst last. Arrival numbers follow the same rule as the C heap: they restart at 0 when they
would pass 2**62 while the heap is empty, and OverflowError is raised if the heap is not empty.
"""
from __future__ import annotations

import bisect
from typing import Any

ORDER_LIMIT = 2**62


class ReferenceHeap:
    """Sorted-list model with the same public behaviour as PriorityHeap (single-threaded)."""

    def __init__(self, capacity: int, next_order: int = 0) -> None:
        self.capacity = capacity
        self.next_order = next_order
        self._entries: list[tuple[tuple[int, int, int], Any]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def _orders(self, k: int) -> int:
        if self.next_order + k > ORDER_LIMIT:
            if self._entries:
                raise OverflowError("arrival counter exhausted")
            self.next_order = 0
        base = self.next_order
        self.next_order += k
        return base

    def push(self, item: Any, priority: int, sequence: int) -> bool:
        """Add an item; False when full."""
        if len(self._entries) >= self.capacity:
            return False
        order = self._orders(1)
        bisect.insort(self._entries, ((-int(priority), sequence, order), item),
                      key=lambda entry: entry[0])
        return True

    def push_chunks(self, chunks: list, start: int = 0) -> int:
        """Push chunks[start:] until full; the number pushed."""
        room = self.capacity - len(self._entries)
        todo = chunks[start:start + room] if room > 0 else []
        if not todo:
            return 0
        base = self._orders(len(todo))
        for j, chunk in enumerate(todo):
            key = (-int(chunk.priority), chunk.sequence_number, base + j)
            bisect.insort(self._entries, (key, chunk), key=lambda entry: entry[0])
        return len(todo)

    def pop(self) -> Any:
        """Remove and return the best item."""
        if not self._entries:
            raise IndexError("pop from an empty heap")
        return self._entries.pop(0)[1]

    def pop_lowest(self) -> Any:
        """Remove and return the worst item."""
        if not self._entries:
            raise IndexError("pop_lowest from an empty heap")
        return self._entries.pop()[1]

    def pop_batch(self, max_items: int) -> list:
        """Remove and return up to max_items best items, best first."""
        taken = self._entries[:max_items]
        del self._entries[:max_items]
        return [item for _, item in taken]

    def clear(self) -> list:
        """Remove and return everything, best first."""
        return self.pop_batch(len(self._entries))

    def peek(self) -> Any:
        """The best item."""
        if not self._entries:
            raise IndexError("peek at an empty heap")
        return self._entries[0][1]

    def peek_key(self) -> tuple[int, int] | None:
        """(priority, sequence) of the best item."""
        if not self._entries:
            return None
        (neg_priority, sequence, _), _item = self._entries[0]
        return (-neg_priority, sequence)

    def peek_lowest_key(self) -> tuple[int, int] | None:
        """(priority, sequence) of the worst item."""
        if not self._entries:
            return None
        (neg_priority, sequence, _), _item = self._entries[-1]
        return (-neg_priority, sequence)

    def keys(self) -> list[tuple[int, int]]:
        """All keys, best first."""
        return [(-p, s) for (p, s, _), _item in self._entries]
