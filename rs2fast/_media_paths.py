"""Which files go through container ingest: the extension list and the streaming service's rule.

Kept apart from rs2fast.container so that deciding costs no import of PyAV or of the container
modules: the streaming service imports those only when a container path is first seen.
"""
from __future__ import annotations

import logging
import os
from typing import Optional, Union

from rs2fast._av_base import require_av

log = logging.getLogger("rs2fast")

CONTAINER_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".ts", ".m2ts"})


def is_container_path(path: Union[str, os.PathLike]) -> bool:
    """True when `path` names a container file by its extension (.mp4 .m4v .mov .mkv .webm .ts
    .m2ts, any case)."""
    return os.path.splitext(os.fsdecode(os.fspath(path)))[1].lower() in CONTAINER_EXTENSIONS


def wants_demux(path: Union[str, os.PathLike], metadata: Optional[dict] = None) -> bool:
    """Whether a file stream should go through container ingest (the streaming service's rule).

    metadata "container": "demux" forces it (CodecUnavailable when PyAV is missing), "raw" turns it
    off; otherwise ("auto") container paths are demuxed when PyAV is installed, else streamed as bytes.
    """
    mode = (metadata or {}).get("container", "auto")
    if mode not in ("auto", "demux", "raw"):
        raise ValueError(f'metadata "container" must be "auto", "demux" or "raw", got {mode!r}')
    if mode == "raw":
        return False
    if mode == "auto" and not is_container_path(path):
        return False
    if mode == "demux":
        require_av()
        return True
    try:
        require_av()
    except Exception:
        log.info("rs2fast: %s streamed as raw bytes: install the av extra for container ingest", path)
        return False
    return True
