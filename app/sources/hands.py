"""Hand skeletons for the sources that have none of their own, in one place for every source.

A webcam, a video file and a RealSense give color but no skeleton. A source that calls
``SourceThread.track_hands()`` (a video source unless ``VideoConfig.skeleton`` is off; a RealSense
when the engine's model reads skeletons) runs MediaPipe here, on its own thread, and emits right
after each ``color`` sample a ``skeleton`` sample with the same ``index``, ``host_ns`` and
``device_ms``: the hand that drives the model (``HandTracker.choose``), or None when none was found.
"""

from __future__ import annotations

import time

from app.hand_tracker import HandTracker, HandTrackerConfig
from fusion.data.sample import Sample


class HandSkeletons:
    """The skeleton sample that follows each color sample. ``hands`` counts the frames with a hand,
    ``track_s`` the seconds spent in MediaPipe."""

    def __init__(self, tracker: HandTracker | None = None, *, hands: HandTrackerConfig | None = None,
                 host_clock: bool = False) -> None:
        self._owned = tracker is None
        self.tracker = tracker if tracker is not None else HandTracker(hands or HandTrackerConfig())
        self.host_clock = host_clock  # MediaPipe's clock: host time, else the device's (host without one)
        self.hands = 0
        self.track_s = 0.0

    def follow(self, color: Sample) -> Sample:
        t_ms = color.host_ns / 1e6 if self.host_clock or color.device_ms is None else color.device_ms
        start = time.perf_counter()
        hand = self.tracker.choose(self.tracker.track(color.data, t_ms))
        self.track_s += time.perf_counter() - start
        self.hands += hand is not None
        return Sample("skeleton", hand, color.index, color.host_ns, color.device_ms)

    def close(self) -> None:
        """Close the tracker made here (a tracker handed in belongs to its giver)."""
        if self._owned:
            self.tracker.close()
