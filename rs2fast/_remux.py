"""Chunks back to packets: reassemble a demuxed stream's packets and remux them into a new file.

Both need the packet table that container ingest keeps with `record_packets=True`: which chunks
(first sequence number, number of pieces) each packet became, and its timing.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, NamedTuple, Optional

from rs2fast._av_base import require_av
from rs2fast._chunk import MediaChunk
from rs2fast._container_info import ContainerInfo
from rs2fast._enums import ChunkType
from rs2fast._matroska import template_container


class ContainerPacket(NamedTuple):
    """One packet rebuilt from its chunks: data plus the timing the container gave it."""

    stream_index: int
    data: bytes
    pts: Optional[int]
    dts: Optional[int]
    duration: int
    keyframe: bool
    first_sequence: int
    chunk_type: ChunkType


def iter_packets(chunks: Iterable[MediaChunk], info: ContainerInfo) -> Iterator[ContainerPacket]:
    """Reassemble the packets of a demuxed stream from its chunks (all of them, in sequence order).

    Needs `info.packets` (read with `record_packets=True`). A missing, extra or out-of-order chunk
    raises ValueError naming the sequence number.
    """
    table = info.packets
    if table is None:
        raise ValueError("info has no packet table: read the container with record_packets=True")
    records = iter(table)
    record = None
    parts: list = []
    ctype: Any = None
    for chunk in chunks:
        if not isinstance(chunk, MediaChunk):
            raise TypeError(f"chunks must be MediaChunks, not {type(chunk).__name__}")
        if record is None:
            record = next(records, None)
            if record is None:
                raise ValueError(f"chunk {chunk.sequence_number} is beyond the last recorded packet")
            parts = []
            ctype = chunk.chunk_type
        expected = record.first_sequence + len(parts)
        if chunk.sequence_number != expected:
            raise ValueError(f"expected chunk {expected}, got {chunk.sequence_number}: chunks must be "
                             f"the complete stream in sequence order")
        parts.append(chunk.data)
        if len(parts) == record.pieces:
            data = parts[0] if len(parts) == 1 else b"".join(parts)
            yield ContainerPacket(record.stream_index, bytes(data), record.pts, record.dts,
                                  record.duration, record.keyframe, record.first_sequence, ctype)
            record = None
    if record is not None:
        raise ValueError(f"the chunks end inside packet {record.first_sequence} "
                         f"({len(parts)} of {record.pieces} pieces)")
    leftover = next(records, None)
    if leftover is not None:
        raise ValueError(f"the chunks end before packet {leftover.first_sequence}")


def remux(chunks: Iterable[MediaChunk], info: ContainerInfo, out: Any, *,
          container_format: Optional[str] = None) -> int:
    """Write the packets rebuilt from `chunks` into a new container `out` (a path or a binary file);
    returns the number of packets written. No re-encoding: the output decodes to the same frames.

    `container_format` defaults to what `out`'s extension says. The output must accept the packets'
    codecs and framing (e.g. MP4/MOV/MKV for AVCC H.264 read from MP4 or MKV).
    """
    av = require_av()
    if info.packets is None:
        raise ValueError("info has no packet table: read the container with record_packets=True")
    templates = template_container(av, info.streams)
    count = [0]
    try:
        with av.open(out, "w", format=container_format) as output:
            targets = {}
            for desc, template in zip(info.streams, templates.streams):
                target = output.add_stream_from_template(template)
                target.time_base = desc.time_base
                targets[desc.index] = (target, desc.time_base)
            waiting: dict = {index: [] for index in targets}     # packets whose dts is not known yet
            last_dts: dict = {}

            def write(rebuilt, dts) -> None:
                target, time_base = targets[rebuilt.stream_index]
                packet = av.Packet(rebuilt.data)
                packet.stream = target
                packet.time_base = time_base
                packet.pts = rebuilt.pts
                packet.dts = dts
                packet.duration = rebuilt.duration
                packet.is_keyframe = rebuilt.keyframe
                output.mux(packet)
                last_dts[rebuilt.stream_index] = dts
                count[0] += 1

            for rebuilt in iter_packets(chunks, info):
                queue = waiting[rebuilt.stream_index]
                if rebuilt.dts is None:
                    # Matroska stores no dts: the demuxer leaves it unset until it can tell. Muxers
                    # need one, so these packets wait for the next known dts and count back from it.
                    queue.append(rebuilt)
                    continue
                for back, early in enumerate(queue):
                    write(early, rebuilt.dts - (len(queue) - back) * max(1, early.duration or 1))
                queue.clear()
                write(rebuilt, rebuilt.dts)
            for index, queue in waiting.items():
                for early in queue:            # no later dts came: count up from the last one
                    previous = last_dts.get(index)
                    write(early, early.pts if previous is None else
                          previous + 1 if early.pts is None else max(previous + 1, early.pts))
    finally:
        templates.close()
    return count[0]
