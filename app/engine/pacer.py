"""Pacing of a replay the engine reads itself, and pause / step for every source."""

from __future__ import annotations

import threading
from dataclasses import replace

from app.sources.base import now_ns
from app.sources.recording import GapCap
from fusion.data.sample import Sample


class Pacer:
    """Paces a file replay at its recorded rate and lets the window pause, step and seek it.

    Used blocking for seekable sources (``.mmtm`` recordings), which the engine reads as fast as
    possible: the feed's sink waits here until each sample is due (on the recording's clock) and
    re-stamps its host time when it is released, as a paced source does. Waiting blocks only the
    file reader. Other sources pace themselves; for them pause drops frames (a live camera is never
    blocked) and seek is refused. A jump of the recorded clock is waited at most
    ``app.sources.recording.MAX_GAP_S`` (and said once on stderr).
    """

    def __init__(self, *, realtime: bool, blocking: bool, start_s: float, paused: bool) -> None:
        self.realtime = realtime
        self.blocking = blocking  # a file we own the pacing of
        self.start_s = start_s  # a seek: samples before this time (s since the first) are dropped
        self._cond = threading.Condition()
        self.paused = paused
        self._budget = 0  # reference frames to let through while paused
        self._open = False  # paused: the partners of the last stepped reference frame may pass
        self._stopping = False
        self._origin: tuple[int, float] | None = None  # (host ns, recording ms) at the last (re)start
        self.gaps = GapCap("the recording")  # caps a jump of the recorded clock

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            self.paused = paused
            self._origin = None  # pacing restarts from the next sample
            self._cond.notify_all()

    def step(self, frames: int) -> None:
        with self._cond:
            self._budget += frames
            self._origin = None
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def admit(self, sample: Sample, reference: bool) -> Sample | None:
        """The sample to pass on (re-stamped), or None to drop it."""
        if not self.blocking:
            if self.paused:
                with self._cond:
                    if self._budget <= 0:
                        return None
                    if reference:
                        self._budget -= 1
            return sample
        t_ms = sample.device_ms if sample.device_ms is not None else sample.host_ns / 1e6
        with self._cond:
            # paused: a stepped reference frame opens the gate for the partners that follow it
            while self.paused and not self._stopping and self._budget <= 0 and (reference or not self._open):
                self._open = False
                self._cond.wait(0.2)
            if self._stopping:
                return None
            if self.paused and reference:
                self._budget -= 1
                self._open = True
            if self.realtime and not self.paused:
                if self._origin is None:
                    self._origin = (now_ns(), t_ms)
                while not self._stopping:
                    if self._origin is None:  # paused or stepped meanwhile: pace from here
                        self._origin = (now_ns(), t_ms)
                    due = self._origin[0] + (t_ms - self._origin[1]) * 1e6
                    wait = (due - now_ns()) / 1e9
                    if wait <= 0 or self.paused:
                        break
                    capped = self.gaps.wait_s(wait)
                    if capped < wait:  # the recorded clock jumps ahead: pace on from here after the cap
                        self._origin = (now_ns() + int(capped * 1e9), t_ms)
                    self._cond.wait(capped)
        return replace(sample, host_ns=now_ns())
