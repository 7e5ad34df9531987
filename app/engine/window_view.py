"""What the window sees: a ``Snapshot`` of the primary source after each decision, in a latest-value slot.

The engine's threads never touch a widget; the window (``app/ui/``) takes the newest snapshot on a
timer and paints the frame, the skeleton overlay, the scores and the events.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from app.snapshot import EventMark, LatestSlot, Snapshot
from fusion.online import GestureEvent

if TYPE_CHECKING:
    from app.engine.feed import Feed


class WindowView:
    """The snapshots for the window (``slot``) and the recent events they show."""

    def __init__(self) -> None:
        self.slot = LatestSlot()
        self.events: deque[EventMark] = deque(maxlen=32)
        self._latency_cache: tuple[int, dict] = (-1, {})

    def mark(self, event: GestureEvent) -> None:
        """An event of the primary source, for the timeline."""
        self.events.append(EventMark(event.label, float(event.score), float(event.t)))

    def publish(self, feed: Feed, *, skipped: int, recording: str | None, error: str | None, threshold: float,
                actions_enabled: bool, inference_ms: float = 0.0, finished: bool = False) -> None:
        """Put the window's view of ``feed`` now into ``slot``."""
        samples = feed.latest
        color = samples.get("color")
        depth = samples.get("depth")
        skeleton = samples.get("skeleton")
        active = feed.recognizer.active
        summary = self._latency(feed)
        info = feed.source.stream_info
        events = self.events
        self.slot.put(Snapshot(
            t=feed.last_t or 0.0, frame_index=max(feed.sets - 1, 0),
            color=None if color is None else color.data, depth=None if depth is None else depth.data,
            depth_scale=info["depth"].depth_scale if "depth" in info and info["depth"].depth_scale else 0.001,
            skeleton=None if skeleton is None else skeleton.data,
            labels=feed.recognizer.labels, probs=feed.recognizer.smoothed,
            current=EventMark(active[0], active[1], feed.last_t or 0.0) if active else
            (events[-1] if events and (feed.last_t or 0) - events[-1].t < 1.0 else None),
            events=tuple(events), fps=summary.get("fps", {}), inference_ms=inference_ms,
            latency_ms={k: v for k, v in summary.get("latency_ms", {}).items() if k != "n" and v is not None},
            skipped=skipped, dropped={s: st["dropped"] for s, st in feed.sync.stats().items()},
            device=str(feed.runner.device), backend=feed.runner.backend, source=feed.name,
            model=feed.runner.name, recording=recording, paused=feed.pacer.paused,
            seekable=feed.seekable, position=feed.last_t or 0.0, duration=feed.duration, error=error,
            finished=finished, threshold=threshold, actions_enabled=actions_enabled))

    def _latency(self, feed: Feed) -> dict:
        """The feed's stats summary, recomputed at most every 15 decisions (percentiles cost ~1 ms)."""
        if feed.decisions - self._latency_cache[0] >= 15 or self._latency_cache[0] < 0:
            self._latency_cache = (feed.decisions, feed.stats.summary())
        return self._latency_cache[1]
