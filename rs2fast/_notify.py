"""Delivery of events to a user callback that may fail without harming the caller."""
from __future__ import annotations

import logging
from typing import Callable, Optional

log = logging.getLogger("rs2fast")


class EventEmitter:
    """Calls `on_event(event)` for each event; a raising callback is logged and counted, never raised."""

    __slots__ = ("on_event", "callback_errors")

    def __init__(self, on_event: Optional[Callable[[object], None]] = None) -> None:
        if on_event is not None and not callable(on_event):
            raise TypeError(f"on_event must be callable, not {type(on_event).__name__}")
        self.on_event = on_event
        self.callback_errors = 0

    def emit(self, event: object) -> None:
        """Hand `event` to the callback, if there is one."""
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:
            self.callback_errors += 1
            log.exception("rs2fast event callback raised on %r", event)
