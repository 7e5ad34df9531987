"""The data structures of the synthetic world: an isolated ``Clip`` and a continuous ``Stream``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Clip:
    """One isolated gesture: T frames of all three modalities, one label.

    Frames are the camera's unmirrored view; depth is aligned to colour (same intrinsics).
    """

    label: str                                   # a label of fusion.labels.DEFAULT_LABELS
    rgb: np.ndarray                              # (T, H, W, 3) uint8, RGB order
    depth: np.ndarray                            # (T, H, W) uint16, metres = value * depth_scale; 0 = no data
    depth_scale: float                           # metres per depth unit (0.001)
    skeleton: np.ndarray                         # (T, 21, 3) float32 MediaPipe image landmarks (x, y in [0, 1], z relative)
    world: np.ndarray                            # (T, 21, 3) float32 MediaPipe world landmarks (metres)
    presence: np.ndarray                         # (T,) bool: a skeleton was found (zeros where not)
    handedness: str                              # "Left" / "Right", as MediaPipe reports on the unmirrored frame
    intrinsics: tuple[float, float, float, float]  # (fx, fy, ppx, ppy) in pixels
    fps: float
    active: tuple[int, int]                      # frames [start, end) where the gesture is performed


@dataclass(frozen=True)
class Stream:
    """A continuous recording: gestures separated by idle motion, frame-accurate labels."""

    rgb: np.ndarray                              # (T, H, W, 3) uint8
    depth: np.ndarray                            # (T, H, W) uint16
    depth_scale: float
    skeleton: np.ndarray                         # (T, 21, 3) float32
    world: np.ndarray                            # (T, 21, 3) float32
    presence: np.ndarray                         # (T,) bool
    handedness: str
    intrinsics: tuple[float, float, float, float]
    fps: float
    segments: tuple[tuple[str, int, int], ...]   # (label, start_frame, end_frame_exclusive), gestures only
    frame_labels: np.ndarray                     # (T,) '<U16' label per frame ("no_gesture" between gestures)
