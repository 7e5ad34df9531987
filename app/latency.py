"""Latency statistics: stage timestamps of each decision, and a bounded, thread-safe aggregator.

A decision's ``StageTimes`` holds ``time.monotonic_ns()`` readings at each stage it passed::

    capture ─▶ arrival ─▶ window ─▶ infer_start ─▶ infer_end ─▶ decision ─▶ emit
      (host)    (buffer)   (ready)   (worker)       (worker)     (online)    (sink/render)

``LatencyStats`` turns them into intervals (milliseconds) and keeps, per interval, the last
``capacity`` values in a preallocated ring plus the running count and maximum over all values.
Percentiles are numpy's default (linear) ones over the ring; ``max`` is over everything seen.

Intervals (a decision missing one of the two stages an interval needs does not count for it):

==================  ======================================================
``buffer``          capture → arrival in the ring buffer
``window``          arrival → window (or step input) ready
``wait``            window ready → inference start (queueing in the worker)
``inference``       inference start → inference end (model compute)
``decision``        inference end → decision (online recogniser)
``emit``            decision → emission or render
``total``           capture → decision (the summary's ``latency_ms``)
``overhead``        capture → decision minus inference: the pipeline's own cost
==================  ======================================================
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

STAGES = ("capture", "arrival", "window", "infer_start", "infer_end", "decision", "emit")

# interval name -> (from stage, to stage), in pipeline order
INTERVALS = {
    "buffer": ("capture", "arrival"),
    "window": ("arrival", "window"),
    "wait": ("window", "infer_start"),
    "inference": ("infer_start", "infer_end"),
    "decision": ("infer_end", "decision"),
    "emit": ("decision", "emit"),
    "total": ("capture", "decision"),
}
OVERHEAD = "overhead"  # total minus inference
PERCENTILES = (50.0, 95.0, 99.0)


@dataclass(frozen=True)
class StageTimes:
    """Monotonic-ns timestamps of one decision (or frame) at each stage; None where not reached.

    ``capture`` is the host capture time of the newest frame the decision used; ``device_ms`` that
    frame's device timestamp where the device gives one. Build it as the stages pass, e.g.
    ``t = t.at("infer_end")`` (stamps now) or ``t.at("decision", ns)``.
    """

    stream: str = ""
    capture: int | None = None
    arrival: int | None = None
    window: int | None = None
    infer_start: int | None = None
    infer_end: int | None = None
    decision: int | None = None
    emit: int | None = None
    device_ms: float | None = None

    def at(self, stage: str, ns: int | None = None) -> StageTimes:
        """A copy with ``stage`` stamped at ``ns`` (default: ``time.monotonic_ns()`` now)."""
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
        return replace(self, **{stage: _now_ns() if ns is None else int(ns)})

    def intervals_ms(self) -> dict[str, float]:
        """The intervals this record has both ends of, in milliseconds (see the module docstring)."""
        out: dict[str, float] = {}
        for name, (a, b) in INTERVALS.items():
            ta, tb = getattr(self, a), getattr(self, b)
            if ta is not None and tb is not None:
                out[name] = (tb - ta) / 1e6
        if "total" in out and "inference" in out:
            out[OVERHEAD] = out["total"] - out["inference"]
        return out


class _Ring:
    """The last ``capacity`` float values, plus the count and the maximum of all values added."""

    __slots__ = ("values", "count", "max")

    def __init__(self, capacity: int) -> None:
        self.values = np.zeros(capacity, dtype=np.float64)  # (capacity,) preallocated
        self.count = 0
        self.max = float("-inf")

    def add(self, value: float) -> None:
        self.values[self.count % len(self.values)] = value
        self.count += 1
        if value > self.max:
            self.max = value

    def snapshot(self) -> tuple[np.ndarray, int, float]:
        n = min(self.count, len(self.values))
        return self.values[:n].copy(), self.count, self.max


class _StreamCounts:
    __slots__ = ("frames", "skipped", "dropped", "last_index", "arrivals")

    def __init__(self, fps_frames: int) -> None:
        self.frames = 0
        self.skipped = 0
        self.dropped = 0
        self.last_index: int | None = None
        self.arrivals: deque[int] = deque(maxlen=fps_frames)  # arrival ns, bounded


class LatencyStats:
    """Thread-safe aggregator of stage latencies, frame rates and skip/drop counts.

    ``capacity``: values kept per interval for the percentiles (memory is fixed at
    ``capacity * 8`` bytes per interval); ``fps_window_s``: the sliding window of arrival times
    that frame rates are measured over; ``fps_frames``: the most arrival times kept per stream.
    Any thread may call every method; ``summary()`` copies under the lock and computes outside it.
    """

    def __init__(self, *, capacity: int = 4096, fps_window_s: float = 2.0, fps_frames: int = 1024) -> None:
        if capacity < 1 or fps_frames < 2 or fps_window_s <= 0:
            raise ValueError("capacity >= 1, fps_frames >= 2 and fps_window_s > 0 are required")
        self._capacity = capacity
        self._fps_window_ns = int(fps_window_s * 1e9)
        self._fps_frames = fps_frames
        self._lock = threading.Lock()
        self._rings = {name: _Ring(capacity) for name in (*INTERVALS, OVERHEAD)}
        self._streams: dict[str, _StreamCounts] = {}
        self._decisions = 0

    # --- writers ---------------------------------------------------------------------------------

    def add(self, times: StageTimes) -> None:
        """Count one decision and record each interval it has both ends of."""
        intervals = times.intervals_ms()
        with self._lock:
            self._decisions += 1
            for name, value in intervals.items():
                self._rings[name].add(value)

    def add_frame(self, stream: str, arrival_ns: int, *, index: int | None = None) -> None:
        """Count one frame of ``stream`` that arrived at ``arrival_ns``.

        With ``index`` (the source's frame number), a gap since the previous index of the stream
        counts its missing frames as dropped.
        """
        with self._lock:
            s = self._stream(stream)
            s.frames += 1
            s.arrivals.append(int(arrival_ns))
            if index is not None:
                if s.last_index is not None and index > s.last_index + 1:
                    s.dropped += index - s.last_index - 1
                s.last_index = index

    def count_skipped(self, stream: str, n: int = 1) -> None:
        """Frames (or windows) the worker skipped to catch up with the newest data."""
        with self._lock:
            self._stream(stream).skipped += n

    def count_dropped(self, stream: str, n: int = 1) -> None:
        """Frames lost before processing (a full buffer, a device drop)."""
        with self._lock:
            self._stream(stream).dropped += n

    # --- readers ---------------------------------------------------------------------------------

    def percentiles(self, interval: str = "total") -> dict[str, float | int | None]:
        """``{"p50", "p95", "p99", "max", "n"}`` of one interval in ms (None before any value)."""
        if interval not in self._rings:
            raise ValueError(f"unknown interval {interval!r}; intervals are {', '.join(self._rings)}")
        with self._lock:
            snap = self._rings[interval].snapshot()
        return _percentiles(*snap)

    def fps(self, stream: str) -> float:
        """Frames per second of ``stream`` over the arrivals of the last ``fps_window_s`` seconds
        before its newest arrival; 0.0 with fewer than two arrivals in that window."""
        with self._lock:
            s = self._streams.get(stream)
            arrivals = list(s.arrivals) if s is not None else []
        return self._fps(arrivals)

    def summary(self, *, digits: int = 3) -> dict:
        """The statistics shaped for the headless summary line (ARCHITECTURE.md, contract 2).

        ``{"frames": {stream: n}, "dropped": {stream: n}, "skipped": {stream: n},
        "fps": {stream: f}, "decisions": n, "latency_ms": {p50, p95, p99, max, n},
        "stages_ms": {interval: {p50, p95, p99, max, n}}}``; ``latency_ms`` is capture → decision;
        ``stages_ms`` holds every other interval with at least one value; ms rounded to ``digits``.
        """
        with self._lock:
            snaps = {name: ring.snapshot() for name, ring in self._rings.items()}
            streams = {
                name: (s.frames, s.dropped, s.skipped, list(s.arrivals))
                for name, s in self._streams.items()
            }
            decisions = self._decisions

        def rounded(p: dict) -> dict:
            return {k: (round(v, digits) if isinstance(v, float) else v) for k, v in p.items()}

        return {
            "frames": {name: v[0] for name, v in streams.items()},
            "dropped": {name: v[1] for name, v in streams.items()},
            "skipped": {name: v[2] for name, v in streams.items()},
            "fps": {name: round(self._fps(v[3]), 2) for name, v in streams.items()},
            "decisions": decisions,
            "latency_ms": rounded(_percentiles(*snaps["total"])),
            "stages_ms": {
                name: rounded(_percentiles(*snap))
                for name, snap in snaps.items()
                if name != "total" and snap[1] > 0
            },
        }

    # --- internals -------------------------------------------------------------------------------

    def _stream(self, stream: str) -> _StreamCounts:
        s = self._streams.get(stream)
        if s is None:
            s = self._streams[stream] = _StreamCounts(self._fps_frames)
        return s

    def _fps(self, arrivals: list[int]) -> float:
        if len(arrivals) < 2:
            return 0.0
        newest = arrivals[-1]
        recent = [t for t in arrivals if newest - t <= self._fps_window_ns]
        span = recent[-1] - recent[0]
        if len(recent) < 2 or span <= 0:
            return 0.0
        return (len(recent) - 1) * 1e9 / span


def _percentiles(values: np.ndarray, count: int, maximum: float) -> dict[str, float | int | None]:
    if count == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    p50, p95, p99 = (float(v) for v in np.percentile(values, PERCENTILES))
    return {"p50": p50, "p95": p95, "p99": p99, "max": float(maximum), "n": count}


def _now_ns() -> int:
    return time.monotonic_ns()
