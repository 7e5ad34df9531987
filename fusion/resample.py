"""Frames at the camera's rate → model steps at the model's rate, by timestamps.

A model trained at 30 fps sees every gesture twice as fast from a 15 fps webcam. The engine (and
training, to see what the engine will feed) therefore steps the model on its own clock: ticks every
``1 / fps`` seconds from the first frame, each tick filled from the frames around it::

    resampler = SkeletonResampler(fps=30.0)
    for t, hand in frames:                        # seconds, (J, 3) landmarks or None
        for tick_t, tick_hand in resampler.push(t, hand):
            model.step(...)                       # 0, 1 or more steps per frame

- A tick between two frames that both saw a hand gets the hand linearly interpolated between them
  (a 15 fps camera gives two steps per frame; a 60 fps one a step every other frame). A tick less
  than half a period after the newest frame is given with that frame (the nearest one), so a
  camera at the model's rate whose timestamps jitter still gives exactly one step per frame.
- A hand lost for less than ``hold_s`` keeps its last landmarks (MediaPipe loses fast hands to
  motion blur; the hand then reappears where the stroke ended), so a swipe across a gap is still a
  jump from here to there within the model's window. After ``hold_s`` the hand is gone (None).

Causal: the ticks up to half a period past a frame's time are given when that frame arrives, so
resampling adds no delay beyond the frame itself. Pure numpy, no clocks: the same times give the same steps.
"""

from __future__ import annotations

import math

import numpy as np

HOLD_S = 0.5  # how long a lost hand keeps its last landmarks


class SkeletonResampler:
    """Model-rate steps from skeleton samples at any rate (see the module docstring)."""

    def __init__(self, fps: float, *, hold_s: float = HOLD_S) -> None:
        if not fps > 0 or not math.isfinite(fps):
            raise ValueError(f"fps must be a positive number, got {fps}")
        self.period = 1.0 / fps
        self.hold_s = hold_s
        self.reset()

    def reset(self) -> None:
        self._origin: float | None = None   # time of tick 0 (the first frame)
        self._next = 0                      # index of the next tick to give
        self._prev: tuple[float, np.ndarray | None] | None = None
        self._seen: tuple[float, np.ndarray] | None = None   # the last frame with a hand

    def tick_time(self, k: int) -> float:
        return (self._origin or 0.0) + k * self.period

    def push(self, t: float, hand: np.ndarray | None) -> list[tuple[float, np.ndarray | None]]:
        """The ticks this frame brings (up to half a period after ``t``), each (time, landmarks or None)."""
        if self._origin is None:
            self._origin = t
        if self._prev is not None and t <= self._prev[0]:
            return []  # a repeated or earlier time: nothing new to step
        out = []
        while self.tick_time(self._next) < t + 0.5 * self.period - 1e-9:
            tick = self.tick_time(self._next)
            out.append((tick, self._at(tick, t, hand)))
            self._next += 1
        self._prev = (t, hand)
        if hand is not None:
            self._seen = (t, hand)
        return out

    def _at(self, tick: float, t: float, hand: np.ndarray | None) -> np.ndarray | None:
        prev = self._prev
        if hand is not None and prev is not None and prev[1] is not None and prev[0] < tick < t:
            w = (tick - prev[0]) / (t - prev[0])
            return (prev[1] + (hand - prev[1]) * np.float32(w)).astype(np.float32)
        if hand is not None and (tick >= t - 1e-9 or self._seen is None or tick - self._seen[0] > self.hold_s):
            return hand
        if self._seen is not None and tick - self._seen[0] <= self.hold_s:
            return self._seen[1]
        return None


def resample_sequence(times: np.ndarray, hands: np.ndarray, present: np.ndarray, fps: float, *,
                      hold_s: float = HOLD_S) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A whole recorded sequence through ``SkeletonResampler``: times (N,) seconds, hands (N, J, 3),
    present (N,) bool → tick times (K,), hands (K, J, 3) (zeros where none), present (K,)."""
    resampler = SkeletonResampler(fps, hold_s=hold_s)
    ticks: list[float] = []
    rows: list[np.ndarray | None] = []
    for t, hand, seen in zip(times, hands, present):
        for tick, value in resampler.push(float(t), hand if seen else None):
            ticks.append(tick)
            rows.append(value)
    out = np.zeros((len(rows),) + hands.shape[1:], np.float32)
    mask = np.zeros(len(rows), bool)
    for k, value in enumerate(rows):
        if value is not None:
            out[k], mask[k] = value, True
    return np.asarray(ticks), out, mask
