"""Intel RealSense color + depth, live from a device or from a ``.bag``/``.db3`` recording.

Live devices and recordings go through one loop; only the session under it differs (an
``rs.pipeline`` live, the playback device's sensors for a recording; see ``RsSession``)::

    session.read() -> frame sets -> skip repeated frames, count gaps as drops
                   -> pair depth with color by timestamp -> align depth to color (rs.align) -> emit

Emitted samples (``app.sources.base.Sample``), each frame exactly once:

- ``color``: (H, W, 3) uint8 RGB; ``index`` the device's color frame number.
- ``depth``: (H, W) uint16 aligned to the color image (same H, W; ``align=False`` keeps the
  depth sensor's size), in units of ``stream_info["depth"].depth_scale`` metres, 0 = no data;
  ``index`` the device's depth frame number.

``device_ms`` is the device timestamp of that frame (depth and color share the device's clock);
a depth frame is emitted right after the color frame it was paired with. End of a recording
ends the thread normally (``finished`` is set, ``join()`` raises nothing); a live source runs
until ``stop()``. A live device that stops delivering frames for ``disconnect_s`` is reported
as disconnected, and the source reopens it every ``reconnect_s`` until it returns.

The loop talks to the SDK only through a small session object (``RsSession`` in
``realsense_sdk.py``), so that tests can inject a fake device that disconnects and returns
(``open_session=``). A RealSense has no skeleton stream; when the model reads skeletons the engine
asks for MediaPipe's hands on each color frame (``SourceThread.track_hands``).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from app.sources.base import SourceThread, now_ns
from fusion.data.sample import Sample, StreamInfo
from fusion.errors import BadInput

RECORDING_SUFFIXES = (".bag", ".db3")


@dataclass(frozen=True)
class RealSenseConfig:
    """A RealSense source: ``path`` set = a recording, else a live device."""

    path: str | None = None  # .bag (SDK < 2.59) or .db3 (SDK >= 2.59) recording; None = live
    serial: str | None = None  # live: the device to open when several are plugged in
    width: int = 640  # live: color (and aligned depth) size
    height: int = 480
    fps: int = 30
    depth_width: int | None = None  # live: depth sensor size before alignment (default: width)
    depth_height: int | None = None
    align: bool = True  # depth resampled onto the color image (rs.align)
    real_time: bool = True  # recordings: paced by device timestamps; False = as fast as read
    queue_size: int = 2  # live: frames the SDK may queue per sensor (small = low latency)
    disconnect_s: float = 0.5  # live: no frames for this long = unplugged
    reconnect_s: float = 0.5  # live: how often to try reopening a lost device
    wait_for_device: bool = False  # live: no device at start = keep trying (else BadInput)


@dataclass
class RawFrame:
    """One frame as a session delivers it; ``handle`` is the SDK's frame (or a fake's array)."""

    stream: str  # "color" | "depth"
    number: int
    timestamp_ms: float
    handle: object


class Session(Protocol):
    """What the loop needs from an opened device or recording."""

    stream_info: dict[str, StreamInfo]
    is_recording: bool

    def read(self, timeout_ms: int) -> list[RawFrame] | None:
        """The frames of the next frame set; None on timeout. Raises EndOfStream, DeviceLost."""

    def color(self, frame: RawFrame) -> np.ndarray:
        """(H, W, 3) uint8 RGB, a copy that outlives the frame."""

    def depth(self, frame: RawFrame, color: RawFrame | None) -> np.ndarray:
        """(H, W) uint16, aligned to ``color``'s image when given, a copy."""

    def close(self) -> None: ...


class EndOfStream(Exception):
    """A recording has no more frames."""


class DeviceLost(Exception):
    """The device is gone (unplugged) or cannot be opened right now."""


class RealSenseSource(SourceThread):
    """Color + aligned depth from a RealSense device or recording (see the module docstring).

    ``open_session(config) -> Session`` is for tests; ``on_status(message)`` hears about
    disconnects and reconnects (default: a line on stderr). ``stats`` counts ``drops`` and
    ``repeats`` (frames the SDK's syncer handed out twice, skipped) per stream, ``disconnects``
    and ``reconnects``, and ``convert_s``: seconds spent converting color and aligning depth.
    """

    name = "realsense"

    def __init__(
        self,
        config: RealSenseConfig,
        *,
        sink: Callable[[Sample], None],
        open_session: Callable[[RealSenseConfig], Session] | None = None,
        on_status: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(sink=sink)
        if config.path is not None:
            path = Path(config.path)
            if path.suffix.lower() not in RECORDING_SUFFIXES:
                raise BadInput(f"{path}: not a RealSense recording (expected .bag or .db3)")
            if not path.is_file():
                raise BadInput(f"RealSense recording not found: {path}")
        self.config = config
        if open_session is None:
            from app.sources.realsense_sdk import open_rs_session as open_session  # the SDK, imported once used
        self._open_session = open_session
        self._on_status = on_status or (lambda message: print(f"mmtm-live: {message}", file=sys.stderr))
        self._session: Session | None = None
        self._clock: tuple[float, float] | None = None  # (host s, device ms) of the first paced frame
        self.stats = {"drops": {"color": 0, "depth": 0}, "repeats": {"color": 0, "depth": 0},
                      "disconnects": 0, "reconnects": 0, "convert_s": 0.0}

    def _open(self) -> None:
        """Open the device or recording (errors raise here) and read its stream infos."""
        try:
            self._session = self._open_session(self.config)
        except DeviceLost as error:
            if not self.config.wait_for_device:
                raise BadInput(str(error)) from None
            self._on_status(f"{error}; waiting for it")
        if self._session is not None:
            self.stream_info = dict(self._session.stream_info)

    def _run(self) -> None:
        try:
            while not self.stopping:
                if self._session is None:
                    if not self._reconnect():
                        return
                try:
                    self._read_until_lost(self._session)
                    return  # end of recording, or stopping
                except DeviceLost as error:
                    self.stats["disconnects"] += 1
                    self._on_status(f"RealSense disconnected ({error})")
                    self._close()
        finally:
            self._close()

    def _reconnect(self) -> bool:
        """Reopen the device every ``reconnect_s`` until it is back; False when stopping."""
        while not self.wait(self.config.reconnect_s):
            try:
                self._session = self._open_session(self.config)
            except DeviceLost:
                continue
            self.stream_info = {**self.stream_info, **self._session.stream_info}  # keeps a tracked skeleton
            self.stats["reconnects"] += 1
            self._on_status("RealSense reconnected")
            return True
        return False

    def _close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            session.close()

    def _read_until_lost(self, session: Session) -> None:
        pairer = _Pairer(session, self)
        poll_ms = 100
        last_frame = time.monotonic()
        while not self.stopping:
            try:
                frames = session.read(poll_ms)
            except EndOfStream:
                pairer.flush()
                return
            if frames is None:
                if session.is_recording:
                    continue  # the file decides what pairs; only pace and order matter
                pairer.flush()  # live, nothing for a poll period: waiting partners are not coming
                if time.monotonic() - last_frame > self.config.disconnect_s:
                    raise DeviceLost(f"no frames for {self.config.disconnect_s:.1f} s")
                continue
            last_frame = time.monotonic()
            pairer.add(frames)
        pairer.flush()

    def _pace(self, device_ms: float) -> None:
        """Recordings in real time: wait until the frame's time since the first frame has passed."""
        if not (self.config.real_time and self._session is not None and self._session.is_recording):
            return
        if self._clock is None:
            self._clock = (time.monotonic(), device_ms)
        start, first_ms = self._clock
        delay = start + (device_ms - first_ms) / 1000.0 - time.monotonic()
        if delay > 0:
            self.wait(delay)


class _Pairer:
    """Skips repeated frames, counts gaps, pairs depth with color by timestamp, emits in order.

    A frame set may hold a frame already handed out (the syncer repeats the last color frame when
    depth runs ahead) or only one stream (its partner comes in the next set). New frames wait in
    a short queue; a depth frame whose timestamp is within half a frame period of a color frame
    is emitted right after it; a frame whose partner has not come within two periods is emitted
    alone (depth still aligned to the color camera's geometry).
    """

    def __init__(self, session: Session, source: RealSenseSource) -> None:
        self.session = session
        self.source = source
        fps = max((info.fps for info in session.stream_info.values()), default=30.0) or 30.0
        self.tolerance_ms = 500.0 / fps
        self.horizon_ms = 2000.0 / fps
        self.last_number: dict[str, int] = {}
        self.last_ts: dict[str, float] = {}
        self.pending = {"color": deque(), "depth": deque()}
        self.geometry: RawFrame | None = None  # the latest color frame, for aligning lone depth

    def add(self, frames: list[RawFrame]) -> None:
        for frame in frames:
            if frame.stream not in self.pending:
                continue
            last = self.last_number.get(frame.stream)
            if last is not None and (frame.number <= last and frame.timestamp_ms <= self.last_ts[frame.stream]):
                self.source.stats["repeats"][frame.stream] += 1
                continue
            if last is not None and frame.number > last + 1:
                self.source.stats["drops"][frame.stream] += frame.number - last - 1
            self.last_number[frame.stream] = frame.number
            self.last_ts[frame.stream] = frame.timestamp_ms
            self.pending[frame.stream].append(frame)
        self._match(final=False)

    def flush(self) -> None:
        self._match(final=True)

    def _match(self, *, final: bool) -> None:
        colors, depths = self.pending["color"], self.pending["depth"]
        newest = max(self.last_ts.values(), default=0.0)
        while colors or depths:
            color = colors[0] if colors else None
            depth = depths[0] if depths else None
            if color is not None and depth is not None and abs(color.timestamp_ms - depth.timestamp_ms) <= self.tolerance_ms:
                colors.popleft(), depths.popleft()
                self._emit(color, depth)
                continue
            # the older head has no partner at the queue's front; emit it alone once it is stale
            head = min((f for f in (color, depth) if f is not None), key=lambda f: f.timestamp_ms)
            partner_may_come = not final and newest - head.timestamp_ms <= self.horizon_ms
            partner_queue = depths if head.stream == "color" else colors
            if partner_may_come and not partner_queue:
                return
            (colors if head.stream == "color" else depths).popleft()
            self._emit(head if head.stream == "color" else None, head if head.stream == "depth" else None)

    def _emit(self, color: RawFrame | None, depth: RawFrame | None) -> None:
        source = self.source
        stats = source.stats
        if color is not None:
            self.geometry = color
            source._pace(color.timestamp_ms)
            t0 = time.perf_counter()
            rgb = self.session.color(color)
            stats["convert_s"] += time.perf_counter() - t0
            source.emit(Sample("color", rgb, color.number, now_ns(), color.timestamp_ms))
        if depth is not None:
            if color is None:
                source._pace(depth.timestamp_ms)
            t0 = time.perf_counter()
            data = self.session.depth(depth, color or self.geometry)
            stats["convert_s"] += time.perf_counter() - t0
            source.emit(Sample("depth", data, depth.number, now_ns(), depth.timestamp_ms))
