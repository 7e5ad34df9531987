"""Aligns streams of different rates into frame sets, and measures skew, drops and latency.

One stream is the reference (by default the first present of depth, color, skeleton: the
fastest video stream of a RealSense or a webcam). Every reference frame becomes one ``FrameSet``
holding, for each other video stream, the partner sample that

1. has the same ``index`` (a RealSense frame set, or a skeleton computed on that color frame)
   within ``tolerance_ms``: paired at once, before any nearer sample, or else
2. is nearest in time within ``tolerance_ms``,

or nothing (the stream is ``missing`` from that set). A partner is used once; a sample that
repeats an index already seen (a frame set delivered twice, in parts) is counted as a duplicate
and not used again. A reference frame is complete once each partner is found or can no longer
arrive (a later sample of that stream is past the tolerance, or the stream's rate says its next
sample will be), or the reference stream has moved
``max_wait_ms`` on; ``flush()`` completes the rest at the end of the input.

Times: two samples are compared by ``device_ms`` when both have one, else by ``host_ns``.
Audio is not paired frame by frame (the model reads it by time from its ring buffer); it is
counted, and its drops reported. ``push`` is the sink of one or more sources (thread-safe).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from app.ring_buffer import RingBuffer
from app.sources.base import now_ns
from fusion.data.sample import Sample

VIDEO = ("depth", "color", "skeleton")


@dataclass(frozen=True)
class SyncConfig:
    tolerance_ms: float = 20.0  # nearest partner within this of the reference frame, else missing
    max_wait_ms: float = 100.0  # a reference frame waits at most this (on its stream's clock)
    reference: str | None = None  # None: the first of depth, color, skeleton among the streams
    history: int = 32  # partner samples kept per stream while they wait for a reference frame
    stats_window: int = 100_000  # latest skew and latency values kept for the percentiles


@dataclass(frozen=True)
class FrameSet:
    """One reference frame and its partners (``samples`` includes the reference itself)."""

    reference: str
    samples: dict[str, Sample]
    missing: tuple[str, ...]
    ready_ns: int  # now_ns() when the set was complete

    @property
    def latency_ms(self) -> float:
        """From the capture of the reference frame (its ``host_ns``) to this set being complete."""
        return (self.ready_ns - self.samples[self.reference].host_ns) / 1e6


def sample_time_ms(a: Sample, b: Sample) -> tuple[float, float]:
    """Times of two samples on a common clock: device time when both have it, else host time."""
    if a.device_ms is not None and b.device_ms is not None:
        return a.device_ms, b.device_ms
    return a.host_ns / 1e6, b.host_ns / 1e6


class _StreamStats:
    def __init__(self, window: int) -> None:
        self.received = 0
        self.duplicates = 0
        self.dropped = 0
        self.matched = 0
        self.missing = 0
        self.unmatched = 0
        self.skew_ms: deque[float] = deque(maxlen=window)
        self.last_index: int | None = None
        self.last_time = 0.0
        self.restarts = 0

    def report(self) -> dict:
        out = {"received": self.received, "dropped": self.dropped, "duplicates": self.duplicates,
               "matched": self.matched, "missing": self.missing, "unmatched": self.unmatched,
               "restarts": self.restarts}
        if self.skew_ms:
            skew = np.asarray(self.skew_ms)
            out["skew_ms"] = {"mean": round(float(skew.mean()), 3),
                              "p50": round(float(np.percentile(np.abs(skew), 50)), 3),
                              "p95": round(float(np.percentile(np.abs(skew), 95)), 3),
                              "max": round(float(np.abs(skew).max()), 3)}
        return out


class Synchronizer:
    """The sink of the sources: writes each sample into its ring buffer (preprocessed once) and
    hands complete ``FrameSet``s to ``on_set``, in order, on the pushing thread (keep it short:
    the inference worker reads the buffers on its own thread)."""

    def __init__(self, config: SyncConfig = SyncConfig(), *, streams: Sequence[str],
                 on_set: Callable[[FrameSet], None] | None = None,
                 buffers: Mapping[str, RingBuffer] | None = None,
                 to_array: Mapping[str, Callable[[object], np.ndarray | None]] | None = None,
                 audio_rate: int = 16000,
                 make_buffer: Callable[[str, np.ndarray], RingBuffer] | None = None) -> None:
        self.config = config
        video = [s for s in VIDEO if s in streams]
        self.reference = config.reference or (video[0] if video else None)
        if self.reference is not None and self.reference not in streams:
            raise ValueError(f"reference stream {self.reference!r} is not among {list(streams)}")
        self.partners = tuple(s for s in video if s != self.reference)
        self.on_set = on_set
        self.buffers = dict(buffers or {})
        self.to_array = dict(to_array or {})
        self.audio_rate = audio_rate
        self.make_buffer = make_buffer  # builds a stream's buffer from its first frame, if it has none
        self._audio_samples = 0  # audio samples buffered so far: the audio buffer's frame numbers
        self._lock = threading.RLock()  # on_set may call back (stats) on the same thread
        self._pending: deque[Sample] = deque()
        self._history = {s: deque() for s in self.partners}  # unused partner samples, oldest first
        self._newest: dict[str, Sample | None] = {s: None for s in self.partners}
        self._times = {s: deque(maxlen=8) for s in self.partners}  # recent sample times, for the rate
        self._stats = {s: _StreamStats(config.stats_window) for s in streams}
        self._period: dict[str, float | None] = {s: None for s in self.partners}  # ms between samples
        self.sets = 0
        self.latency_ms: deque[float] = deque(maxlen=config.stats_window)  # of the latest frame sets

    def push(self, sample: Sample) -> None:
        with self._lock:
            stats = self._stats.setdefault(sample.stream, _StreamStats(self.config.stats_window))
            t = sample.device_ms if sample.device_ms is not None else sample.host_ns / 1e6
            if stats.last_index is not None and sample.index <= stats.last_index:
                if t <= stats.last_time + self.config.tolerance_ms:
                    stats.duplicates += 1  # seen already: a frame set delivered again, in part
                    return
                stats.restarts += 1  # the numbering started again (a device that reconnected)
            elif stats.last_index is not None:
                stats.dropped += sample.index - stats.last_index - 1
            stats.last_index, stats.last_time = sample.index, t
            stats.received += 1
            self._buffer(sample)
            if sample.stream == self.reference:
                self._pending.append(sample)
            elif sample.stream in self._history:
                history = self._history[sample.stream]
                if len(history) == self.config.history:
                    history.popleft()
                    self._stats[sample.stream].unmatched += 1
                history.append(sample)
                self._newest[sample.stream] = sample
                times = self._times[sample.stream]
                times.append(sample.device_ms if sample.device_ms is not None else sample.host_ns / 1e6)
                self._period[sample.stream] = _period_ms(times)
            else:
                return
            self._resolve(final=False)

    def flush(self) -> None:
        """Complete every waiting reference frame (end of input)."""
        with self._lock:
            self._resolve(final=True)
            for stream, history in self._history.items():
                self._stats[stream].unmatched += len(history)
                history.clear()

    def stats(self) -> dict[str, dict]:
        """Per stream: received, dropped (index gaps), duplicates, matched, missing, unmatched,
        restarts (the numbering went back while time went on), skew_ms."""
        with self._lock:
            return {s: st.report() for s, st in self._stats.items()}

    # -- internals --------------------------------------------------------------------------------

    def _buffer(self, sample: Sample) -> None:
        buffer = self.buffers.get(sample.stream)
        if buffer is None and self.make_buffer is None:
            return
        convert = self.to_array.get(sample.stream)
        data = convert(sample.data) if convert is not None else sample.data
        if buffer is None:
            if data is None:
                return  # shape unknown until the first frame with data
            buffer = self.buffers[sample.stream] = self.make_buffer(sample.stream, np.asarray(data))
        if sample.stream == "audio":
            block = np.asarray(data)
            buffer.push_block(block, index=self._audio_samples, host_ns=sample.host_ns,
                              period_ns=1e9 / self.audio_rate)
            self._audio_samples += len(block)
        else:
            buffer.push(data, index=sample.index, host_ns=sample.host_ns)

    def _resolve(self, *, final: bool) -> None:
        while self._pending:
            ref = self._pending[0]
            newest_ref = self._pending[-1]
            r0, r1 = sample_time_ms(ref, newest_ref)
            expired = final or r1 - r0 > self.config.max_wait_ms
            found: dict[str, Sample | None] = {}
            for stream in self.partners:
                choice = self._match(stream, ref, expired)
                if choice is _WAIT:
                    return  # the oldest reference frame is not complete: later ones wait too
                found[stream] = choice
            self._pending.popleft()
            self._emit(ref, found)

    def _match(self, stream: str, ref: Sample, expired: bool) -> Sample | None | object:
        history = self._history[stream]
        tolerance = self.config.tolerance_ms
        best, best_dt = None, None
        while history:  # partners too old for this reference frame are too old for any later one
            t_ref, t = sample_time_ms(ref, history[0])
            if t >= t_ref - tolerance:
                break
            history.popleft()
            self._stats[stream].unmatched += 1
        for sample in history:
            t_ref, t = sample_time_ms(ref, sample)
            dt = abs(t - t_ref)
            if dt <= tolerance and sample.index == ref.index:
                return sample
            if dt <= tolerance and (best_dt is None or dt < best_dt):
                best, best_dt = sample, dt
            if t > t_ref + tolerance:
                break
        if expired:
            return best
        newest = self._newest[stream]
        if newest is not None:
            t_ref, t_newest = sample_time_ms(ref, newest)
            if t_newest > t_ref + tolerance:
                return best  # a later sample of this stream cannot be closer
            period = self._period[stream]
            if period is not None and t_newest + 0.9 * period > t_ref + tolerance:
                return best  # at this stream's rate, its next sample comes too late to match
        return _WAIT

    def _emit(self, ref: Sample, found: dict[str, Sample | None]) -> None:
        samples = {self.reference: ref}
        missing = []
        for stream, sample in found.items():
            stats = self._stats[stream]
            if sample is None:
                stats.missing += 1
                missing.append(stream)
                continue
            history = self._history[stream]
            del history[next(k for k, queued in enumerate(history) if queued is sample)]
            stats.matched += 1
            t_ref, t = sample_time_ms(ref, sample)
            stats.skew_ms.append(t - t_ref)
            samples[stream] = sample
        self._stats[self.reference].matched += 1
        frame_set = FrameSet(self.reference, samples, tuple(missing), now_ns())
        self.sets += 1
        self.latency_ms.append(frame_set.latency_ms)
        if self.on_set is not None:
            self.on_set(frame_set)


_WAIT = object()


def _period_ms(times: deque) -> float | None:
    """Median interval between a stream's recent samples, None until known."""
    if len(times) < 3:
        return None
    diffs = sorted(b - a for a, b in zip(list(times), list(times)[1:]))
    median = diffs[len(diffs) // 2]
    return median if median > 0 else None
