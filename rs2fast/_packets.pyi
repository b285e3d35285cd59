"""Demuxed packets to MediaChunks in C: the per-packet work of container ingest (compiled)."""
from typing import Any, Callable, Final, Iterable, Literal, Optional, final

from typing_extensions import Buffer

from rs2fast._chunk import MediaChunk

TYPINGS: Final[tuple[str, ...]]

_Plan = Optional[tuple[Literal["audio", "thumbnail", "keyframe", "bitstream", "decode"], int, int,
                       Optional[str], int]]

@final
class PacketData:
    """A demuxed packet's bytes, borrowed without a copy."""

    def __new__(cls, packet: Buffer) -> "PacketData": ...
    def __len__(self) -> int: ...
    def __bytes__(self) -> bytes: ...

@final
class PacketChunker:
    """Makes MediaChunks, checksums and packet table rows from demuxed packets."""

    @property
    def sequence(self) -> int: ...
    @property
    def packets_read(self) -> int: ...
    @property
    def bytes_read(self) -> int: ...
    def __init__(self, stream_id: str, source: str, chunk_size: int,
                 checksum: Optional[Literal["crc32c", "sha256"]], start_sequence: int,
                 plans: list[_Plan], rows: Any = None, base: int = 0, *, keep_corrupt: bool = False,
                 check_truncated: Optional[Callable[[], object]] = None) -> None: ...
    def fill(self, demux: Iterable[Any], batch: list[MediaChunk], batch_size: int) -> bool:
        """Chunks of packets from `demux` into `batch` until it holds more than `batch_size`
        (False) or `demux` ends (True)."""
    def read(self, packet: Any) -> Optional[list[Any]]:
        """One packet's entry for the decoding path, or None for an empty packet."""
    def emit(self, batch: list[MediaChunk], entries: Iterable[list[Any]]) -> None:
        """Append the chunks of typed entries made by read()."""
    def packets_per_stream(self) -> list[int]:
        """Packets demuxed so far, per container stream index."""
