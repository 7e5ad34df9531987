"""A webcam (OpenCV, by index) or a video file (mp4, avi, ...), with hand skeletons from MediaPipe.

Emitted samples, per frame, in this order and with the same ``index``, ``host_ns`` and ``device_ms``:

- ``color``: (H, W, 3) uint8 RGB (converted from OpenCV's BGR);
- ``skeleton``: the ``Skeleton`` of the hand that drives the model, or None when no hand was found
  (only when ``VideoConfig.skeleton`` is on; MediaPipe runs in ``app.sources.hands``, as for every
  source without skeletons).

``index`` counts frames from 0; no frame is dropped (a file paced in real time falls behind
when the landmarker is slower than its frame rate). ``device_ms`` is the frame's position in a file (index / fps
× 1000); for a webcam, the capture time OpenCV reports when it reports one, else None.
No depth in this mode. A file's ``duration_s`` comes from the frame count its header declares.
A file ends the thread normally at its end (``finished`` is set, ``join()`` raises nothing), or
with BadInput from ``join()`` when it ends well before that frame count (truncated); a webcam
runs until ``stop()``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from app.hand_tracker import HandTracker, HandTrackerConfig
from app.sources.base import SourceThread, now_ns
from fusion.data.sample import Sample, StreamInfo
from fusion.errors import BadInput

CAMERA_TIMEOUT_S = 2.0  # a webcam that delivers nothing for this long has gone


@dataclass(frozen=True)
class VideoConfig:
    """``path`` set = a video file, else the webcam ``camera``."""

    path: str | None = None  # a video file (anything OpenCV's FFmpeg reads)
    camera: int = 0  # webcam index, when no path is given
    width: int | None = None  # webcam: size and rate to ask for (None = the camera's default)
    height: int | None = None
    fps: float | None = None
    real_time: bool = True  # files: paced at the file's fps; False = as fast as possible
    skeleton: bool = True  # run MediaPipe and emit "skeleton" samples
    hands: HandTrackerConfig = field(default_factory=HandTrackerConfig)
    mirrored: bool = False  # frames stored in the selfie view: flipped back to the camera's own view


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` the source uses (a fake camera implements it in tests)."""

    def isOpened(self) -> bool: ...
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def get(self, prop: int) -> float: ...
    def set(self, prop: int, value: float) -> bool: ...
    def release(self) -> None: ...


def open_cv_capture(config: VideoConfig) -> Capture:
    """``cv2.VideoCapture`` of the file or camera of ``config`` (not checked yet)."""
    import cv2

    _quiet_opencv(cv2)
    if config.path is not None:
        return cv2.VideoCapture(str(config.path))
    capture = cv2.VideoCapture(config.camera)
    if capture.isOpened():
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a backlog (low latency)
        if config.width and config.height:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, config.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, config.height)
        if config.fps:
            capture.set(cv2.CAP_PROP_FPS, config.fps)
    return capture


class VideoSource(SourceThread):
    """Frames and hand skeletons from a webcam or a video file (see the module docstring).

    ``open_capture(config) -> Capture`` and ``tracker`` (anything with ``track(rgb, t_ms)`` and
    ``choose(hands)``) are for tests and for sharing one landmarker. ``stats`` counts ``frames``,
    ``hands`` (frames with a skeleton), and the seconds spent in ``decode_s`` (OpenCV's read:
    decoding, or waiting for the camera), ``convert_s`` (BGR -> RGB) and ``track_s`` (MediaPipe).
    """

    name = "video"

    def __init__(
        self,
        config: VideoConfig,
        *,
        sink: Callable[[Sample], None],
        open_capture: Callable[[VideoConfig], Capture] | None = None,
        tracker: HandTracker | None = None,
    ) -> None:
        super().__init__(sink=sink)
        if config.path is not None and not Path(config.path).is_file():
            raise BadInput(f"video file not found: {config.path}")
        if config.path is None and config.camera < 0:
            raise BadInput(f"camera index must be >= 0, not {config.camera}")
        self.config = config
        self._open_capture = open_capture or open_cv_capture
        self._tracker = tracker
        self._capture: Capture | None = None
        self._first: np.ndarray | None = None
        self._duration_s: float | None = None
        self.is_file = config.path is not None
        self._stats = {"frames": 0, "decode_s": 0.0, "convert_s": 0.0}

    @property
    def stats(self) -> dict:
        hands = self._hands
        return {**self._stats, "hands": hands.hands if hands else 0, "track_s": hands.track_s if hands else 0.0}

    @property
    def duration_s(self) -> float | None:
        return self._duration_s

    def describe(self) -> str:
        return str(self.config.path) if self.is_file else f"camera {self.config.camera}"

    def _open(self) -> None:
        """Open the file or camera and read its first frame (errors raise here)."""
        import cv2

        capture = self._open_capture(self.config)
        if not capture.isOpened():
            capture.release()
            if self.is_file:
                raise BadInput(f"{self.config.path}: not a readable video file")
            raise BadInput(f"camera {self.config.camera} not found or busy (see: mmtm-live sources)")
        ok, first = capture.read()
        if not ok or first is None or first.ndim != 3:
            capture.release()
            raise BadInput(f"{self.describe()}: no frame could be read (corrupt or empty?)")
        self._capture, self._first, self._cv2 = capture, first, cv2
        fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
        if not 0 < fps < 1000:
            fps = 30.0 if self.is_file else 0.0
        self.fps = fps
        if self.is_file:
            declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            self._duration_s = (declared - 1) / fps if declared > 1 else None  # first frame to last
        height, width = first.shape[:2]
        self.stream_info = {"color": StreamInfo("color", width, height, fps)}
        if self.config.skeleton:
            try:
                self.track_hands(self._tracker, hands=self.config.hands, host_clock=not self.is_file)
            except BaseException:
                capture.release()
                raise

    def _run(self) -> None:
        import cv2

        capture = self._capture
        index = 0
        started = time.monotonic()
        last_frame = started
        try:
            frame, self._first = self._first, None
            while not self.stopping:
                if frame is None:
                    t0 = time.perf_counter()
                    ok, frame = capture.read()
                    self._stats["decode_s"] += time.perf_counter() - t0
                    if not ok or frame is None:
                        if self.is_file:
                            self._check_complete(index)
                            return  # end of file
                        if time.monotonic() - last_frame > CAMERA_TIMEOUT_S:
                            raise BadInput(f"{self.describe()} stopped delivering frames")
                        frame = None
                        self.wait(0.01)
                        continue
                last_frame = time.monotonic()
                if self.is_file:
                    device_ms = index * 1000.0 / self.fps
                    if self.config.real_time and self.wait(max(0.0, started + device_ms / 1000.0 - time.monotonic())):
                        return
                else:
                    device_ms = capture.get(cv2.CAP_PROP_POS_MSEC) or None
                self._emit_frame(frame, index, device_ms)
                index += 1
                frame = None
        finally:
            capture.release()

    def _check_complete(self, frames: int) -> None:
        """A file that ends well before the frame count in its header was cut short."""
        import cv2

        declared = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if declared > 0 and frames < declared - max(2, 0.02 * declared):
            raise BadInput(f"{self.config.path}: truncated or corrupt ({frames} of {declared} frames readable)")

    def _emit_frame(self, bgr: np.ndarray, index: int, device_ms: float | None) -> None:
        host_ns = now_ns()
        t0 = time.perf_counter()
        rgb = self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)  # (H, W, 3) BGR -> RGB; 40x numpy's [..., ::-1]
        if self.config.mirrored:
            rgb = self._cv2.flip(rgb, 1)
        self._stats["convert_s"] += time.perf_counter() - t0
        self.emit(Sample("color", rgb, index, host_ns, device_ms))  # and its skeleton (track_hands)
        self._stats["frames"] += 1


def _quiet_opencv(cv2) -> None:
    """OpenCV logs an ``[ERROR]`` line for a camera index that does not exist (before the source's
    own clear message), warnings for every index it probes, and FFmpeg a line for every damaged
    packet of a truncated file; the source reports those in one line of its own. So its log is
    silenced before a camera is probed, unless ``OPENCV_LOG_LEVEL`` or ``OPENCV_VIDEOIO_DEBUG`` is
    set: whoever sets them wants to see them (likewise ``OPENCV_FFMPEG_LOGLEVEL`` for FFmpeg)."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # read when the first file is opened
    if os.environ.get("OPENCV_LOG_LEVEL") or os.environ.get("OPENCV_VIDEOIO_DEBUG"):
        return
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except AttributeError:  # an OpenCV built without its logging utilities
        pass
