"""ChunkBatch: an immutable sequence of MediaChunks with numpy columns of their fields."""
from typing import Iterable, Iterator, Sequence, SupportsIndex, final, overload

import numpy as np
from numpy.typing import NDArray

from rs2fast._chunk import MediaChunk

@final
class ChunkBatch(Sequence[MediaChunk]):
    """An immutable sequence of MediaChunks plus numpy columns of their fields."""

    def __init__(self, chunks: Iterable[MediaChunk] = ()) -> None: ...
    @classmethod
    def _from_list(cls, chunks: list[MediaChunk]) -> ChunkBatch:
        """A batch over `chunks` without copying the list (callers must not change it)."""
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[MediaChunk]: ...
    def __reversed__(self) -> Iterator[MediaChunk]: ...
    @overload
    def __getitem__(self, index: SupportsIndex, /) -> MediaChunk: ...
    @overload
    def __getitem__(self, index: slice, /) -> ChunkBatch: ...
    def __contains__(self, item: object, /) -> bool: ...
    def index(self, item: object, start: SupportsIndex = 0, stop: SupportsIndex | None = None) -> int:
        """Position of the first chunk equal to `item` (ValueError if there is none)."""
    def count(self, item: object) -> int:
        """How many chunks equal `item`."""
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]
    def to_list(self) -> list[MediaChunk]:
        """The chunks as a new list."""
    @property
    def sequence_numbers(self) -> NDArray[np.uint64]:
        """Sequence numbers (numpy uint64, read-only)."""
    @property
    def chunk_types(self) -> NDArray[np.uint8]:
        """ChunkType values (numpy uint8, read-only)."""
    @property
    def priorities(self) -> NDArray[np.uint8]:
        """MediaPriority values (numpy uint8, read-only)."""
    @property
    def sizes(self) -> NDArray[np.int64]:
        """Payload sizes in bytes (numpy int64, read-only)."""
    @property
    def timestamps_ns(self) -> NDArray[np.int64]:
        """Timestamps in nanoseconds (numpy int64, read-only)."""
    @property
    def total_bytes(self) -> int:
        """Sum of the payload sizes in bytes."""
    @property
    def crc32c(self) -> NDArray[np.uint32]:
        """CRC-32C values of the chunks' "crc32c:..." checksums (numpy uint32, read-only)."""
