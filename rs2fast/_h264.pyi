"""H.264 bitstream frame typing (compiled): classify access units as I/P/B/METADATA."""
from typing import Final, Iterator, Literal, SupportsIndex, final

from typing_extensions import Buffer

from rs2fast._enums import ChunkType

_Framing = Literal["annexb", "avcc"]

FRAMINGS: Final[tuple[str, str]]
LENGTH_SIZES: Final[tuple[int, int, int]]
SLICE_TYPE_NAMES: Final[tuple[str, ...]]

def classify_access_unit(data: Buffer, framing: _Framing = "annexb",
                         length_size: SupportsIndex = 4) -> ChunkType:
    """VIDEO_I_FRAME (IDR, I, SI), VIDEO_P_FRAME (P, SP), VIDEO_B_FRAME or METADATA (no primary
    slice) for one access unit; several slices: any B -> B, else any P -> P, else I.
    Raises MediaFormatError for a damaged unit."""

def parse_slice_type(nal_payload: Buffer) -> int:
    """slice_type (0..9) read from a slice NAL unit's bytes after its header byte."""

@final
class NalUnitIterator(Iterator[tuple[int, int, int]]):
    """Iterator over (nal_type, offset, length) of the NAL units in a buffer."""

    def __init__(self, data: Buffer, framing: _Framing = "annexb",
                 length_size: SupportsIndex = 4) -> None: ...
    def __iter__(self) -> "NalUnitIterator": ...
    def __next__(self) -> tuple[int, int, int]: ...

def iter_nal_units(data: Buffer, framing: _Framing = "annexb",
                   length_size: SupportsIndex = 4) -> NalUnitIterator:
    """(nal_type, offset, length) of each NAL unit, lazily; MediaFormatError where damaged."""
