"""A fake engine for the window's tests, benchmark and screenshot: it records every control call
and can publish synthetic snapshots (a drawn scene with a hand, its depth and skeleton, made-up
predictions and events) from a background thread, as the real engine would.

    QT_QPA_PLATFORM=offscreen python -m tests.app.ui.fake_engine --screenshot docs/images/ui_fake.png
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import threading
import time

import numpy as np

from app.snapshot import EventMark, LatestSlot, Snapshot
from fusion.data.sample import Skeleton
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


def _blend(image: np.ndarray, coverage: np.ndarray, color: tuple[int, int, int] | np.ndarray) -> None:
    """image = image * (1 - coverage) + color * coverage, in place; coverage (h, w) in [0, 1]."""
    a = coverage[..., None]
    image[...] = image * (1.0 - a) + np.asarray(color, np.float32) * a


def _coverage(distance: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage of a shape from its signed distance in pixels (negative inside)."""
    return np.clip(0.5 - distance, 0.0, 1.0)


def _rounded_box(xx: np.ndarray, yy: np.ndarray, x0: float, y0: float, x1: float, y1: float, r: float) -> np.ndarray:
    cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 - r, (y1 - y0) / 2 - r
    qx, qy = np.abs(xx - cx) - hx, np.abs(yy - cy) - hy
    return np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0) - r


def _ellipse(xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    return (np.hypot((xx - cx) / rx, (yy - cy) / ry) - 1.0) * min(rx, ry)


@functools.lru_cache(maxsize=4)
def _room(width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The static scene: (H, W, 3) float32 RGB, (H, W) float32 depth in metres, person mask."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    top, bottom = np.array((70, 80, 92), np.float32), np.array((31, 37, 44), np.float32)
    image = top + (bottom - top) * (yy / height)[..., None]  # (H, W, 3) wall
    depth = np.broadcast_to(np.linspace(2.6, 1.6, height, dtype=np.float32)[:, None], (height, width)).copy()
    frame = _rounded_box(xx, yy, width * 0.70, height * 0.08, width * 0.92, height * 0.50, 2.0)
    _blend(image, _coverage(frame), (138, 163, 184))
    _blend(image, _coverage(frame + height * 0.012), (185, 207, 224))
    desk = _coverage(height * 0.86 - yy)
    _blend(image, desk, (58, 47, 40))
    depth = np.where(desk > 0.5, 1.3, depth)
    body = _rounded_box(xx, yy, width * 0.30, height * 0.62, width * 0.70, height * 1.2, width * 0.08)
    _blend(image, _coverage(body), (44, 62, 87))
    head = _ellipse(xx, yy, width * 0.5, height * 0.42, height * 0.13, height * 0.17)
    shade = np.clip(1.0 - np.hypot(xx - width * 0.5, yy - height * 0.40) / (height * 0.2), 0.0, 1.0)[..., None]
    skin = np.array((168, 118, 92), np.float32) + np.array((49, 51, 46), np.float32) * shade
    _blend(image, _coverage(head), skin)
    hair = np.maximum(head, yy - height * 0.33)
    _blend(image, _coverage(hair), (42, 33, 28))
    person = (body < 0) | (head < 0)
    depth[person] = 1.05
    return image, depth, person


@functools.lru_cache(maxsize=4)
def _sensor_noise(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(0.0, 4.0, (height, width)).astype(np.float32), rng.random((height, width)) < 0.01


def render_scene(i: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame ``i``: (H, W, 3) uint8 RGB, (H, W) uint16 depth in mm, (21, 2) hand pixels.

    Pure numpy (signed distances), so it runs on any thread."""
    points = hand_pixels(i, width, height)
    room, room_depth, _ = _room(width, height)
    image, depth = room.copy(), room_depth.copy()
    radius = height * 0.031
    x0, y0 = np.floor(points.min(axis=0) - 2 * radius).astype(int).clip(0)
    x1, y1 = np.ceil(points.max(axis=0) + 2 * radius).astype(int)
    x1, y1 = min(x1, width), min(y1, height)
    if x1 > x0 and y1 > y0:
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)  # the hand's bounding box only
        nearest = np.full(xx.shape, np.inf, np.float32)  # squared distance to the nearest bone
        for finger in FINGERS:
            for a, b in zip(finger[:-1], finger[1:]):
                (ax, ay), (bx, by) = points[a].tolist(), points[b].tolist()
                vx, vy = bx - ax, by - ay
                dx, dy = xx - ax, yy - ay
                t = np.clip((dx * vx + dy * vy) * (1.0 / (vx * vx + vy * vy)), 0.0, 1.0)
                dx -= t * vx
                dy -= t * vy
                np.minimum(nearest, dx * dx + dy * dy, out=nearest)
        dist = np.sqrt(nearest) - radius
        palm = points[list(PALM)]
        edges = np.roll(palm, -1, axis=0) - palm
        area = float(np.sum(palm[:, 0] * np.roll(palm[:, 1], -1) - np.roll(palm[:, 0], -1) * palm[:, 1]))
        inside = np.full(xx.shape, -np.inf, np.float32)  # convex polygon: the largest edge distance
        for (px, py), (ex, ey) in zip(palm.tolist(), edges.tolist()):
            k = (1.0 if area > 0 else -1.0) / float(np.hypot(ex, ey))
            np.maximum(inside, ((xx - px) * ey - (yy - py) * ex) * k, out=inside)
        dist = np.minimum(dist, inside - radius * 0.6)
        cover = _coverage(dist)
        box = image[y0:y1, x0:x1]
        shade = (1.0 - (yy - y0) * (0.12 / max(1, y1 - y0)))[..., None]
        _blend(box, cover, np.array((236, 190, 160), np.float32) * shade)
        depth[y0:y1, x0:x1] = np.where(cover > 0.5, 0.48 + 0.06 * (yy - y0) / max(1, y1 - y0), depth[y0:y1, x0:x1])
    color = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    noise, holes = _sensor_noise(width, height)
    shift = (i * 7919) % (width * height)  # a different part of the noise each frame
    depth_mm = (depth * 1000.0 + np.roll(noise, shift)).astype(np.uint16)
    depth_mm[np.roll(holes, shift)] = 0  # holes, as a real sensor has
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

    def swap_model(self, path: str | None) -> None:
        self._record("swap_model", path)

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

    def start(self, *, fps: float = 30.0, width: int = 640, height: int = 480, frames: int | None = None,
              first: int = 0) -> None:
        """Publish synthetic snapshots from a thread at ``fps``, frames ``first`` .. ``frames`` (or until
        stopped)."""
        def run() -> None:
            i, due = first, time.monotonic()
            while not self._stop.is_set() and (frames is None or i <= frames):
                self.slot.put(synthetic_snapshot(i, width=width, height=height, fps=fps))
                i += 1
                due = max(due + 1.0 / fps, time.monotonic() - 1.0 / fps)  # a fixed rate, no bursts
                self._stop.wait(max(0.0, due - time.monotonic()))

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
    parser.add_argument("--screenshot", help="save a PNG of the window at frame index --frames")
    parser.add_argument("--frames", type=int, default=345, help="stop at this frame index")
    parser.add_argument("--first", type=int, default=300, help="start at this frame index (a later scene)")
    parser.add_argument("--window", default="1280x720", help="window size, WxH")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args(argv)
    engine = FakeEngine()
    engine.start(width=args.width, height=args.height, first=args.first)
    size = tuple(int(v) for v in args.window.split("x"))
    try:
        return run_window(engine, WindowConfig(size=size), screenshot=args.screenshot, max_frames=args.frames + 1)
    finally:
        engine.stop()
        engine.join(5)


if __name__ == "__main__":
    sys.exit(main())
