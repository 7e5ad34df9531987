"""Repaint work queued by name and run at most ``max_hz`` times a second per name, one item per
timer tick, so the side views take turns instead of all landing on the same tick."""

from __future__ import annotations

import time
from typing import Callable


class RepaintThrottle:
    """Pending work by name; newer work of a name replaces the older (its data is always the newest)."""

    def __init__(self, *, max_hz: float) -> None:
        self.max_hz = max_hz
        self._pending: dict[str, Callable[[], None]] = {}
        self._last_run: dict[str, float] = {}

    def __bool__(self) -> bool:
        """True while some work is pending."""
        return bool(self._pending)

    def later(self, name: str, work: Callable[[], None]) -> None:
        """Queue ``work`` under ``name``, replacing older work of that name; ``flush`` runs it
        when ``name`` has not run for 1/max_hz s."""
        self._pending[name] = work

    def flush(self, *, force: bool = False) -> None:
        """Run the pending work that is due: all of it when forced, else only the most overdue item."""
        now = time.monotonic()
        due = [name for name in self._pending  # in the order they were asked for
               if force or now - self._last_run.get(name, -1e9) >= 1.0 / self.max_hz]
        due.sort(key=lambda name: self._last_run.get(name, -1e9))  # stable: ties keep that order
        for name in due[: None if force else 1]:
            work = self._pending.pop(name)
            self._last_run[name] = now
            work()
