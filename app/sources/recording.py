"""Replays the project's own recordings (``.mmtm``) as a source, paced or as fast as possible.

Samples carry ``host_ns`` = when they were read (as for every replayed file) and
``device_ms`` = the recording's capture time (its ``host_ns`` in ms), so that sync pairs them as
they were captured, in real time or not. Paced replay (``realtime=True``) sleeps to reproduce the
recorded timing; ``realtime=False`` emits every frame in file order as fast as it decodes, so two
runs see the same samples in the same order (deterministic).

A recording is ``seekable``: the engine reads it as fast as possible (``set_realtime(False)``) and
paces it itself, so that it can pause, step, and reopen it at a time offset. Its ``labels`` are the
recording's label segments, its ``duration_s`` the span of its frames' capture times.

A gap in the recorded times longer than ``MAX_GAP_S`` (a damaged or crafted clock: 10^18 ns is 31
years) is replayed as ``MAX_GAP_S``, whoever paces (this source or the engine's ``Pacer``), and said
once on stderr; when the source paces itself, its ``recovery`` line says it too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from app.sources.base import Sink, SourceThread, now_ns
from fusion.data.recording import RecordingReader
from fusion.data.sample import Sample, StreamInfo
from fusion.errors import BadInput

MAX_GAP_S = 5.0  # the longest wait between two frames of a paced replay


class GapCap:
    """Caps the waits of a paced replay at ``MAX_GAP_S``; says so once (stderr) and counts them."""

    def __init__(self, what: str, *, log: TextIO | None = None) -> None:
        self.what = what  # the recording, as the message names it
        self.capped = 0
        self.longest_s = 0.0
        self._log = log

    def wait_s(self, wait_s: float) -> float:
        """The wait to do instead of ``wait_s``."""
        if wait_s <= MAX_GAP_S:
            return wait_s
        self.capped += 1
        self.longest_s = max(self.longest_s, wait_s)
        if self.capped == 1:
            print(f"mmtm-live: {self.what}: its clock jumps {wait_s:.3g} s ahead; replay waits {MAX_GAP_S:g} s "
                  "there instead", file=self._log or sys.stderr, flush=True)
        return MAX_GAP_S

    def note(self) -> str:
        """The recovery line's part on capped gaps ("" when none)."""
        if not self.capped:
            return ""
        return f"; {self.capped} clock jumps (up to {self.longest_s:.3g} s) replayed as {MAX_GAP_S:g} s"


@dataclass(frozen=True)
class RecordingConfig:
    path: str
    realtime: bool = True  # pace by the recorded timestamps; False: as fast as possible, deterministic
    streams: tuple[str, ...] | None = None  # None: every stream in the file


class RecordingSource(SourceThread):
    """A ``.mmtm`` file as a source. The file is opened (and validated) in the constructor, so a
    missing or damaged file is a ``BadInput`` in the caller's thread."""

    name = "recording"
    seekable = True

    def __init__(self, config: RecordingConfig, *, sink: Sink) -> None:
        super().__init__(sink=sink)
        self.config = config
        self._realtime = config.realtime
        self.reader = RecordingReader(config.path)
        self.labels = list(self.reader.labels)
        self.recovery = self.reader.recovery
        present = [s for s in self.reader.counts() if config.streams is None or s in config.streams]
        for stream in present:
            info = self.reader.streams.get(stream, {})
            self.stream_info[stream] = StreamInfo(
                stream=stream, width=int(info.get("width", 0)), height=int(info.get("height", 0)),
                fps=float(info.get("fps", 0.0)), rate=int(info.get("rate", 0)),
                depth_scale=float(info.get("depth_scale", 0.0)), intrinsics=dict(info.get("intrinsics", {})))
        self._streams = tuple(present)
        stamps = self.reader.table["host_ns"]
        self._duration_s = (int(stamps.max()) - int(stamps.min())) / 1e9 if len(stamps) else 0.0  # no int64 wrap
        self.gaps = GapCap(config.path)
        self.emitted = 0

    @property
    def damaged(self) -> int:
        return self.reader.skipped

    @property
    def duration_s(self) -> float:
        return self._duration_s

    def set_realtime(self, realtime: bool) -> None:
        self._realtime = realtime

    def _run(self) -> None:
        try:
            start_ns = None
            first_ns = None
            for frame in self.reader.frames(self._streams):
                if self.stopping:
                    break
                if self._realtime:
                    if start_ns is None:
                        start_ns, first_ns = now_ns(), frame.host_ns
                    delay_s = ((frame.host_ns - first_ns) - (now_ns() - start_ns)) / 1e9
                    wait_s = self.gaps.wait_s(delay_s)
                    if wait_s < delay_s:  # a capped gap: pace on from here
                        start_ns, first_ns = now_ns() + int(wait_s * 1e9), frame.host_ns
                    if wait_s > 0 and self.wait(wait_s):
                        break
                data = frame.data
                info = self.stream_info[frame.stream]
                if info.width and info.height and isinstance(data, np.ndarray) and data.shape[:2] != (info.height,
                                                                                                     info.width):
                    raise BadInput(f"{self.config.path}: a {frame.stream} frame of {data.shape[1]}x{data.shape[0]} "
                                   f"in a stream of {info.width}x{info.height}")
                self.emit(Sample(frame.stream, data, frame.index, host_ns=now_ns(), device_ms=frame.host_ns / 1e6))
                self.emitted += 1
        finally:
            self.recovery = self.reader.recovery + self.gaps.note()
            self.reader.close()
