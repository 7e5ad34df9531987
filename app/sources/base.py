"""The protocol every capture source follows.

A source is one thread that reads a device or a file and hands each sample to a sink::

    source = SomeSource(config, sink=buffers.push)   # sink(sample) is called on the source's thread
    source.open()          # optional: opens the device or file (BadInput here), fills stream_info
    source.start()         # opens if not yet open, then starts the thread
    ...
    source.stop()          # cooperative; wakes blocked reads
    source.join(timeout=2) # re-raises the error that ended the thread, if any

A sample (``fusion.data.sample.Sample``, the one type sources, recorder and readers share) is one
frame of one stream. Color, depth and skeleton of the same instant share an
``index`` where the device pairs them (a RealSense frame set); otherwise the sync stage pairs
them by ``host_ns``/``device_ms`` with a tolerance.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from app.thread_lifecycle import ThreadLifecycle
from fusion.data.sample import Sample, StreamInfo

Sink = Callable[[Sample], None]


class SourceThread(ThreadLifecycle):
    """Base class of the sources: one thread, cooperative stop, errors reach ``join``.

    Subclasses implement ``_run()``, a loop that reads until ``self.stopping`` is set or the input
    ends, and passes each sample to ``self.emit``; and, where opening can fail or tells the streams,
    ``_open()``, which opens the device or file, raises BadInput on bad input and fills
    ``stream_info``. ``open()`` runs it once; ``start()`` opens first if needed, so a caller that
    needs ``stream_info`` before the first sample calls ``open()``, reads it, then ``start()``.
    """

    name = "source"

    def __init__(self, *, sink: Sink) -> None:
        super().__init__()
        self._sink = sink
        self._stop = threading.Event()
        self.stream_info: dict[str, StreamInfo] = {}
        self._opened = False

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def open(self) -> None:
        """Open the device or file now (BadInput on bad input) and fill ``stream_info``; once."""
        if not self._opened:
            self._open()
            self._opened = True

    def start(self) -> None:
        self.open()  # a no-op once opened, so a second start() still fails in ThreadLifecycle.start
        super().start()

    def stop(self) -> None:
        self._stop.set()

    def wait(self, seconds: float) -> bool:
        """Sleep that wakes on ``stop()``; True when stopping."""
        return self._stop.wait(seconds)

    def emit(self, sample: Sample) -> None:
        self._sink(sample)

    def _open(self) -> None:
        """Open the input; the default has nothing to open."""


def now_ns() -> int:
    return time.monotonic_ns()
