"""Headless replay: source -> ring buffers + sync -> consumer, printing JSON lines.

The same path a live source takes: the source thread pushes samples into a ``Synchronizer``,
which preprocesses each once into its ring buffer and hands complete frame sets to the consumer.
Until the inference engine exists the consumer reads the model's window from the buffers (zero
copy) and counts; ``decisions`` is 0 and the latency is from capture to a complete frame set
("capture_to_sync": for a replayed file, capture is when the frame was read).

The last line printed is the summary of ARCHITECTURE.md (contract 2)::

    {"type": "summary", "frames": {"color": n, "depth": n, "skeleton": n_with_a_hand, ...},
     "dropped": {stream: n}, "decisions": 0, "latency_ms": {"p50", "p95", "p99", "max"},
     "latency_of": "capture_to_sync", "frame_sets": n, "missing": {...}, "duplicates": {...},
     "skew_ms": {...}, "overwritten_unread": {...}, "skipped": n, "recovery": str, ...}
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from app.ring_buffer import RingBuffer
from app.sources.base import Sample
from app.sync import FrameSet, SyncConfig, Synchronizer


@dataclass(frozen=True)
class ReplayConfig:
    path: str
    deterministic: bool = False  # every frame in file order, as fast as possible
    max_frames: int | None = None  # stop after this many frame sets (reference frames)
    window: int = 16  # frames per model window read from the buffers
    capacity: int = 64  # frames kept per stream
    sync: SyncConfig = field(default_factory=SyncConfig)


def skeleton_array(skeleton: object) -> np.ndarray | None:
    """(J, 3) float32 image coordinates of a skeleton, None when no hand was found."""
    return None if skeleton is None else np.asarray(skeleton.image, np.float32)


class _Consumer:
    """Stands where the inference worker will: reads a window per frame set, counts."""

    def __init__(self, sync: Synchronizer, window: int, max_sets: int | None, on_limit) -> None:
        self.sync, self.window, self.max_sets, self.on_limit = sync, window, max_sets, on_limit
        self.sets = 0
        self.windows = 0

    def __call__(self, frame_set: FrameSet) -> None:
        if self.max_sets is not None and self.sets >= self.max_sets:
            return
        self.sets += 1
        for buffer in self.sync.buffers.values():
            if buffer.count > self.window:
                buffer.window(self.window)  # what the model would read: a zero-copy view
                self.windows += 1
        if self.max_sets is not None and self.sets >= self.max_sets:
            self.on_limit()


def replay(config: ReplayConfig, *, out: TextIO | None = None) -> dict:
    """Replay ``config.path`` headless; prints JSON lines on ``out``, returns the summary."""
    from app.sources.open import open_source

    out = out or sys.stdout
    frames: dict[str, int] = {}
    holder: dict = {}

    def count(sample: Sample) -> None:  # the source's sink
        if sample.stream == "skeleton" and sample.data is None:
            frames.setdefault("skeleton", 0)
        else:
            frames[sample.stream] = frames.get(sample.stream, 0) + 1
        holder["sync"].push(sample)

    source = open_source(config.path, sink=count, realtime=not config.deterministic)
    streams = list(source.stream_info)
    audio = source.stream_info.get("audio")
    sync = Synchronizer(config.sync, streams=streams, buffers={},
                        to_array={"skeleton": skeleton_array},
                        audio_rate=audio.rate if audio and audio.rate else 16000,
                        make_buffer=lambda stream, array: _buffer_for(stream, array, config))
    holder["sync"] = sync
    consumer = _Consumer(sync, config.window, config.max_frames, source.stop)
    sync.on_set = consumer
    for stream in streams:
        frames.setdefault(stream, 0)
    _print(out, {"type": "start", "source": config.path, "kind": type(source).__name__,
                 "streams": {s: {k: v for k, v in vars(i).items() if v and k != "stream"}
                             for s, i in source.stream_info.items()},
                 "reference": sync.reference, "deterministic": config.deterministic,
                 "recovery": getattr(source, "recovery", None)})
    start = time.monotonic()
    source.start()
    try:
        while not source.finished.wait(0.1):
            pass
    except KeyboardInterrupt:
        source.stop()
    finally:
        source.stop()
        source.join(timeout=10)
    sync.flush()
    stats = sync.stats()
    latency = np.asarray(list(sync.latency_ms)[: consumer.sets], np.float64)
    summary = {
        "type": "summary",
        "frames": frames,
        "dropped": {s: st["dropped"] for s, st in stats.items()},
        "decisions": 0,
        "latency_ms": _percentiles(latency),
        "latency_of": "capture_to_sync",
        "frame_sets": consumer.sets,
        "reference": sync.reference,
        "missing": {s: st["missing"] for s, st in stats.items() if s != sync.reference and s != "audio"},
        "duplicates": {s: st["duplicates"] for s, st in stats.items()},
        "skew_ms": {s: st["skew_ms"] for s, st in stats.items() if "skew_ms" in st},
        "overwritten_unread": {s: b.overwritten_unread for s, b in sync.buffers.items()},
        "skipped": int(getattr(source, "skipped", 0)),
        "recovery": getattr(source, "recovery", None),
        "deterministic": config.deterministic,
        "wall_s": round(time.monotonic() - start, 3),
    }
    _print(out, summary)
    return summary


def _buffer_for(stream: str, array: np.ndarray, config: ReplayConfig) -> RingBuffer:
    capacity = max(config.capacity, config.window + 1)
    if stream == "audio":
        capacity = max(capacity, 4 * len(array) + 1, 16000)
        return RingBuffer(capacity=capacity, shape=(), dtype=np.float32)
    return RingBuffer(capacity=capacity, shape=array.shape, dtype=array.dtype)


def _percentiles(values: np.ndarray) -> dict:
    if len(values) == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3),
            "max": round(float(values.max()), 3)}


def _print(out: TextIO, event: dict) -> None:
    out.write(json.dumps(event) + "\n")
    out.flush()
