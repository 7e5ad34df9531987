"""A fake engine for the window's tests, benchmark and screenshot: it records every control call
and can publish synthetic snapshots (a drawn scene with a hand, its depth and skeleton, made-up
predictions and events) from a background thread, as the real engine would.

    python -m tests.app.ui.fake_engine --screenshot docs/images/ui_fake.png --frames 60
"""

from __future__ import annotations

import argparse
import math
import sys
import threading

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QImage, QLinearGradient, QPainter, QPen, QPolygonF, QRadialGradient

from app.snapshot import EventMark, LatestSlot, Snapshot
from app.sources.base import Skeleton
from fusion.labels import DEFAULT_LABELS

# An open right palm in hand units (wrist at the origin, y up is negative), MediaPipe's joint order.
OPEN_PALM = np.array([
    (0.00, 0.00), (-0.25, -0.10), (-0.42, -0.25), (-0.55, -0.38), (-0.66, -0.50),
    (-0.20, -0.55), (-0.24, -0.78), (-0.26, -0.93), (-0.28, -1.06),
    (-0.02, -0.58), (-0.02, -0.84), (-0.02, -1.01), (-0.02, -1.15),
    (0.15, -0.54), (0.19, -0.77), (0.21, -0.92), (0.23, -1.04),
    (0.29, -0.45), (0.36, -0.62), (0.40, -0.74), (0.43, -0.85),
])
FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
PALM = (0, 1, 5, 9, 13, 17)
GESTURES = ("open_palm", "swipe_left", "thumbs_up", "victory", "push", "fist")
EVENT_EVERY_S = 1.6


def hand_pixels(i: int, width: int, height: int) -> np.ndarray:
    """(21, 2) float pixel positions of the synthetic hand in frame ``i`` (it sways and drifts)."""
    angle = 0.25 * math.sin(i / 17.0) - 0.15
    scale = 0.42 * height
    cx = width * (0.36 + 0.05 * math.sin(i / 29.0))
    cy = height * (0.78 + 0.02 * math.cos(i / 23.0))
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return OPEN_PALM @ rot.T * scale + np.array([cx, cy])  # (21, 2)


def _hand_path(painter: QPainter, points: np.ndarray) -> None:
    painter.drawPolygon(QPolygonF([QPointF(*points[j]) for j in PALM]))
    for finger in FINGERS:
        for a, b in zip(finger[:-1], finger[1:]):
            painter.drawLine(QPointF(*points[a]), QPointF(*points[b]))


def render_scene(i: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame ``i``: (H, W, 3) uint8 RGB, (H, W) uint16 depth in mm, (21, 2) hand pixels."""
    points = hand_pixels(i, width, height)
    image = QImage(width, height, QImage.Format.Format_RGB888)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    wall = QLinearGradient(0, 0, 0, height)
    wall.setColorAt(0.0, QColor("#46505c"))
    wall.setColorAt(1.0, QColor("#1f252c"))
    p.fillRect(0, 0, width, height, wall)
    p.fillRect(QRectF(width * 0.70, height * 0.08, width * 0.22, height * 0.42), QColor("#8aa3b8"))  # window
    p.fillRect(QRectF(width * 0.70, height * 0.08, width * 0.22, height * 0.42).adjusted(4, 4, -4, -4),
               QColor("#b9cfe0"))
    p.fillRect(QRectF(0, height * 0.86, width, height * 0.14), QColor("#3a2f28"))  # desk
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#2c3e57"))  # shoulders
    p.drawRoundedRect(QRectF(width * 0.30, height * 0.62, width * 0.40, height * 0.5), width * 0.08, width * 0.08)
    head = QRadialGradient(QPointF(width * 0.5, height * 0.40), height * 0.18)
    head.setColorAt(0.0, QColor("#d9a98a"))
    head.setColorAt(1.0, QColor("#a8765c"))
    p.setBrush(QBrush(head))
    p.drawEllipse(QPointF(width * 0.5, height * 0.42), height * 0.13, height * 0.17)
    p.setBrush(QColor("#2a211c"))  # hair
    p.drawChord(QRectF(width * 0.5 - height * 0.14, height * 0.24, height * 0.28, height * 0.22), 0, 180 * 16)
    finger_width = height * 0.062
    skin = QColor("#e0b394")
    p.setBrush(skin)
    p.setPen(QPen(skin, finger_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    _hand_path(p, points)
    p.end()
    color = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    color = color.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3).copy()

    # depth: the room far, the person in the middle, the hand near
    rows = np.linspace(2.6, 1.3, height, dtype=np.float32)[:, None]  # the floor comes closer
    depth = np.broadcast_to(rows, (height, width)).copy()
    mask = QImage(width, height, QImage.Format.Format_Grayscale8)
    mask.fill(0)
    p = QPainter(mask)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(128, 128, 128))
    p.drawRoundedRect(QRectF(width * 0.30, height * 0.62, width * 0.40, height * 0.5), width * 0.08, width * 0.08)
    p.drawEllipse(QPointF(width * 0.5, height * 0.42), height * 0.13, height * 0.17)
    grey = QColor(255, 255, 255)
    p.setBrush(grey)
    p.setPen(QPen(grey, finger_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    _hand_path(p, points)
    p.end()
    m = np.frombuffer(mask.constBits().asstring(mask.sizeInBytes()), np.uint8)
    m = m.reshape(height, mask.bytesPerLine())[:, :width]
    depth[m == 128] = 1.05
    hand = m == 255
    depth[hand] = 0.5 + 0.08 * (np.arange(height, dtype=np.float32)[:, None] / height - 0.5).repeat(width, 1)[hand]
    rng = np.random.default_rng(i)
    depth += rng.normal(0.0, 0.004, depth.shape).astype(np.float32)
    depth_mm = (depth * 1000.0).astype(np.uint16)
    depth_mm[rng.random(depth.shape) < 0.01] = 0  # holes, as a real sensor has
    return color, depth_mm, points


def synthetic_snapshot(i: int, *, width: int = 640, height: int = 480, fps: float = 30.0,
                       seekable: bool = False, paused: bool = False, error: str | None = None) -> Snapshot:
    """A snapshot as the engine would publish at frame ``i``."""
    t = i / fps
    color, depth, points = render_scene(i, width, height)
    image = np.zeros((21, 3), np.float32)
    image[:, 0] = points[:, 0] / width
    image[:, 1] = points[:, 1] / height
    skeleton = Skeleton(image=image, handedness="Left", score=0.97)
    n_events = int(t // EVENT_EVERY_S)
    events = tuple(EventMark(label=GESTURES[k % len(GESTURES)], score=0.72 + 0.05 * (k % 5),
                             t=(k + 1) * EVENT_EVERY_S - 0.4) for k in range(max(0, n_events - 8), n_events))
    current = events[-1] if events and t - events[-1].t < 1.0 else None
    labels = DEFAULT_LABELS
    logits = np.full(len(labels), -2.0)
    logits[labels.index("no_gesture")] = 1.0
    if current is not None:
        logits[labels.index(current.label)] = 3.2
    upcoming = GESTURES[n_events % len(GESTURES)]
    logits[labels.index(upcoming)] += 1.5 * ((t % EVENT_EVERY_S) / EVENT_EVERY_S)
    logits += 0.6 * np.sin(np.arange(len(labels)) * 1.7 + i / 9.0)
    probs = np.exp(logits) / np.exp(logits).sum()
    duration = 60.0 if seekable else 0.0
    return Snapshot(
        t=t, frame_index=i, color=color, depth=depth, depth_scale=0.001, skeleton=skeleton, labels=labels,
        probs=probs.astype(np.float32), current=current, events=events,
        fps={"color": 30.0, "depth": 30.0, "skeleton": 29.6}, inference_ms=11.8 + (i % 7) * 0.3,
        latency_ms={"p50": 38.2, "p95": 52.7, "p99": 61.0, "max": 74.3}, skipped=i // 200,
        dropped={"color": 0, "depth": 1 if i > 100 else 0}, device="cpu", backend="eager",
        source="synthetic (fake engine)", model="fake-mmtm.pt", paused=paused, seekable=seekable,
        position=t if seekable else 0.0, duration=duration, error=error, threshold=0.6, actions_enabled=False,
    )


class FakeEngine:
    """Implements ``EngineControls``: records each call as ``(name, args)`` in ``calls``."""

    def __init__(self) -> None:
        self.slot = LatestSlot()
        self.calls: list[tuple[str, tuple]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _record(self, name: str, *args: object) -> None:
        self.calls.append((name, args))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def open_source(self, source: str) -> None:
        self._record("open_source", source)

    def set_model(self, path: str | None) -> None:
        self._record("set_model", path)

    def set_paused(self, paused: bool) -> None:
        self._record("set_paused", paused)

    def step(self, frames: int) -> None:
        self._record("step", frames)

    def seek(self, seconds: float) -> None:
        self._record("seek", seconds)

    def start_recording(self, path: str, prompt_gestures: tuple[str, ...] = ()) -> None:
        self._record("start_recording", path, prompt_gestures)

    def stop_recording(self) -> None:
        self._record("stop_recording")

    def set_threshold(self, score: float) -> None:
        self._record("set_threshold", score)

    def set_actions_enabled(self, enabled: bool) -> None:
        self._record("set_actions_enabled", enabled)

    def shutdown(self) -> None:
        self._record("shutdown")
        self.stop()

    # --- a background producer, like the engine's worker thread ---------------------------------

    def start(self, *, fps: float = 30.0, width: int = 640, height: int = 480, frames: int | None = None) -> None:
        """Publish synthetic snapshots from a thread at ``fps`` (``frames`` of them, or until stopped)."""
        def run() -> None:
            i = 0
            while not self._stop.is_set() and (frames is None or i <= frames):
                self.slot.put(synthetic_snapshot(i, width=width, height=height, fps=fps))
                i += 1
                self._stop.wait(1.0 / fps)

        self._thread = threading.Thread(target=run, name="fake-engine")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError("fake engine did not stop")


def main(argv: list[str] | None = None) -> int:
    from app.ui import WindowConfig, run_window

    parser = argparse.ArgumentParser(description="Show the window with the fake engine.")
    parser.add_argument("--screenshot", help="save a PNG of the window after --frames frames")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args(argv)
    engine = FakeEngine()
    engine.start(width=args.width, height=args.height)
    try:
        return run_window(engine, WindowConfig(), screenshot=args.screenshot, max_frames=args.frames)
    finally:
        engine.stop()
        engine.join(5)


if __name__ == "__main__":
    sys.exit(main())
