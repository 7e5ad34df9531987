"""The protocol every capture source follows.

A source is one thread that reads a device or a file and hands each sample to a sink::

    source = SomeSource(config, sink=buffers.push)   # sink(sample) is called on the source's thread
    source.open()          # optional: opens the device or file (BadInput here), fills stream_info
    source.track_hands()   # optional, before start: a "skeleton" sample after each "color" one
    source.start()         # opens if not yet open, then starts the thread
    ...
    source.stop()          # cooperative; wakes blocked reads
    source.join(timeout=2) # re-raises the error that ended the thread, if any

A sample (``fusion.data.sample.Sample``, the one type sources, recorder and readers share) is one
frame of one stream. Color, depth and skeleton of the same instant share an
``index`` where the device pairs them (a RealSense frame set); otherwise the sync stage pairs
them by ``host_ns``/``device_ms`` with a tolerance.

What a source tells about itself, so that nobody guesses from its name or reads its internals:
``stream_info`` (once open), ``seekable``, ``duration_s``, ``labels``, ``recovery`` and ``damaged``.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Callable

from app.thread_lifecycle import ThreadLifecycle
from fusion.data.sample import Sample, StreamInfo
from fusion.errors import BadInput

if TYPE_CHECKING:
    from app.hand_tracker import HandTracker, HandTrackerConfig
    from app.sources.hands import HandSkeletons
    from fusion.data.recording import LabelSegment

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
    # A file its reader may reopen at a time offset and pace itself (pause, step): the engine does
    # so for the project's own recordings, after ``set_realtime(False)``. Live sources never are.
    seekable = False

    def __init__(self, *, sink: Sink) -> None:
        super().__init__()
        self._sink: Sink | None = sink
        self._stop = threading.Event()
        self.stream_info: dict[str, StreamInfo] = {}
        self._opened = False
        self._hands: HandSkeletons | None = None
        self.labels: list[LabelSegment] = []  # the true gestures of a labelled recording; [] for others
        self.recovery: str | None = None  # a file read despite damage: how much of it was recovered

    @property
    def duration_s(self) -> float | None:
        """A file's length: seconds from its first frame to its last, when known; None when live."""
        return None

    @property
    def damaged(self) -> int:
        """Damaged frames skipped so far (0 for sources that never skip one)."""
        return 0

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

    def set_sink(self, sink: Sink | None) -> None:
        """Send the samples to ``sink`` from now on; None drops them (their consumer has gone)."""
        self._sink = sink

    def set_realtime(self, realtime: bool) -> None:
        """Before ``start()``: pace a file at its recorded rate, or read it as fast as possible (a
        seekable source whose reader paces it). Sources that are not seekable need not support it."""
        raise NotImplementedError(f"{self.name}: its pacing is fixed when it is made")

    def track_hands(self, tracker: HandTracker | None = None, *, hands: HandTrackerConfig | None = None,
                    host_clock: bool = False) -> None:
        """After ``open()``, before ``start()``: emit a ``skeleton`` sample after every ``color`` one
        (``app.sources.hands``), and add the stream to ``stream_info``. ``tracker``: a shared or fake
        tracker (anything with ``track`` and ``choose``); None: a new ``HandTracker(hands)``, closed
        when the thread ends. ``host_clock``: give MediaPipe the host time, not the device's."""
        from app.sources.hands import HandSkeletons

        color = self.stream_info.get("color")
        if color is None:
            raise BadInput(f"{self.name}: no color stream to find hands in")
        self._hands = HandSkeletons(tracker, hands=hands, host_clock=host_clock)
        self.stream_info["skeleton"] = StreamInfo("skeleton", color.width, color.height, color.fps)

    def emit(self, sample: Sample) -> None:
        sink = self._sink
        if sink is None:
            return
        sink(sample)
        if self._hands is not None and sample.stream == "color":
            sink(self._hands.follow(sample))

    def _open(self) -> None:
        """Open the input; the default has nothing to open."""

    def _cleanup(self) -> None:
        if self._hands is not None:
            self._hands.close()


def now_ns() -> int:
    return time.monotonic_ns()
