"""Chunk types learnt by decoding, for video that is not H.264 (whose bitstream says its type).

A TypingDecoder decodes one video stream only to read each picture's type; PendingPackets holds the
packets, in demux order, until the type of every earlier video packet is known, so chunks still
leave in demux order.
"""
from __future__ import annotations

import logging

from rs2fast._av_base import PICT_TYPE_CHUNK
from rs2fast._container_info import StreamInfo
from rs2fast._container_source import error_text
from rs2fast._enums import ChunkType
from rs2fast.errors import MediaFormatError

log = logging.getLogger("rs2fast")

PENDING_LIMIT = 1024          # video packets awaiting their decoded picture type, at most


class PendingPackets:
    """Packets waiting, in demux order, until the decoder has told the type of every video packet."""

    def __init__(self) -> None:
        self.entries: list = []        # [seq, si, data, ts, pts, dts, duration, keyframe, pieces, type]
        self.by_seq: dict = {}
        self.start = 0

    def add(self, entry: list) -> None:
        """Queue one packet's entry (as PacketChunker.read makes it; its type may be unknown)."""
        self.entries.append(entry)
        if entry[9] is None:
            self.by_seq[entry[0]] = entry

    def resolve(self, seq: int, ctype: ChunkType) -> None:
        """Set the type of the packet whose first sequence number is `seq` (if it still waits)."""
        entry = self.by_seq.pop(seq, None)
        if entry is not None:
            entry[9] = ctype

    def resolve_all(self) -> None:
        """Type what the decoder never returned (dropped pictures) from the keyframe flag."""
        for entry in self.by_seq.values():
            entry[9] = _by_flag(entry[7])
        self.by_seq.clear()

    def ready(self) -> list:
        """The entries at the front whose type is known (removed from the queue)."""
        entries = self.entries
        start = self.start
        while len(entries) - start > PENDING_LIMIT and entries[start][9] is None:
            entry = entries[start]      # the decoder holds too much back: type the oldest by its flag
            log.debug("rs2fast: decoder held back %d packets; typing sequence %d by its keyframe flag",
                      len(entries) - start, entry[0])
            self.by_seq.pop(entry[0], None)
            entry[9] = _by_flag(entry[7])
        end = start
        while end < len(entries) and entries[end][9] is not None:
            end += 1
        out = entries[start:end]
        if end == len(entries):
            self.entries = []
            self.start = 0
        elif end > 4096:
            self.entries = entries[end:]
            self.start = 0
        else:
            self.start = end
        return out


class TypingDecoder:
    """Decodes one video stream only to learn each packet's picture type (decoder's pict_type)."""

    def __init__(self, stream, desc: StreamInfo) -> None:
        context = stream.codec_context
        context.thread_type = "AUTO"
        self._opaque = hasattr(context, "copy_opaque")
        if self._opaque:
            context.copy_opaque = True
        self.context = context
        self.index = desc.index
        self._by_pts: dict = {}

    def feed(self, packet, pending: PendingPackets, sid: str) -> None:
        """Decode `packet` (the last one added to `pending`); type the packets whose pictures came out."""
        seq = pending.entries[-1][0]
        if self._opaque:
            packet.opaque = seq
        elif packet.pts is not None:
            self._by_pts[packet.pts] = seq
        try:
            frames = self.context.decode(packet)
        except Exception as error:
            raise MediaFormatError(f"damaged video packet in stream {self.index}: {error_text(error)}",
                                   stream_id=sid, sequence_number=seq) from None
        self._take(frames, pending)

    def finish(self, pending: PendingPackets, sid: str) -> None:
        """Drain the decoder at the end of the stream and type what it still held."""
        try:
            frames = self.context.decode(None)
        except Exception as error:
            raise MediaFormatError(f"damaged video stream {self.index}: {error_text(error)}",
                                   stream_id=sid) from None
        self._take(frames, pending)

    def _take(self, frames, pending: PendingPackets) -> None:
        for frame in frames:
            if self._opaque:
                seq = frame.opaque
            else:
                seq = self._by_pts.pop(frame.pts, None)
            if isinstance(seq, int):
                kind = PICT_TYPE_CHUNK.get(int(frame.pict_type))
                pending.resolve(seq, kind if kind is not None else _by_flag(frame.key_frame))


def _by_flag(keyframe: bool) -> ChunkType:
    """The type a keyframe flag tells: I for a keyframe, else P."""
    return ChunkType.VIDEO_I_FRAME if keyframe else ChunkType.VIDEO_P_FRAME
