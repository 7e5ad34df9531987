"""A contact sheet: for each gesture, RGB and depth at three moments and the skeleton's motion."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fusion.data import synthetic
from fusion.data.clip import Clip
from fusion.data.hand_stats import BONES
from fusion.data.synthetic import SynthConfig
from fusion.errors import BadInput


def depth_colour(depth: np.ndarray, scale: float, near: float = 0.3, far: float = 2.0) -> np.ndarray:
    """uint16 depth -> BGR (near = warm, far = cold, no data = black)."""
    z = depth.astype(np.float32) * scale
    v = np.clip((far - z) / (far - near), 0, 1)
    out = cv2.applyColorMap((v * 255).astype(np.uint8), cv2.COLORMAP_JET)
    out[depth == 0] = 0
    return out


def skeleton_panel(clip: Clip, frames: list[int], h: int, w: int) -> np.ndarray:
    """The skeleton at the given frames drawn over each other, early blue to late red (BGR)."""
    panel = np.full((h, w, 3), 24, np.uint8)
    for n, t in enumerate(frames):
        if not clip.presence[t]:
            continue
        colour = (int(255 * (1 - n / max(1, len(frames) - 1))), 80, int(255 * n / max(1, len(frames) - 1)))
        pts = np.round(clip.skeleton[t, :, :2] * [w, h] - 0.5).astype(int)
        for a, b in BONES:
            cv2.line(panel, tuple(map(int, pts[a])), tuple(map(int, pts[b])), colour, 1, cv2.LINE_AA)
        for p in pts:
            cv2.circle(panel, tuple(map(int, p)), 1, (255, 255, 255), -1)
    return panel


def contact_sheet(clips: list[Clip]) -> np.ndarray:
    """One row per clip: label | RGB x3 | depth x3 | skeleton motion (BGR image)."""
    rows = []
    for clip in clips:
        T, H, W = clip.depth.shape
        s, e = clip.active
        frames = [s, (s + e - 1) // 2, max(s, e - 1)]
        label = np.full((H, 110, 3), 255, np.uint8)
        cv2.putText(label, clip.label, (4, H // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(label, clip.handedness, (4, H // 2 + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (90, 90, 90), 1, cv2.LINE_AA)
        cells = [label]
        cells += [clip.rgb[t][:, :, ::-1] for t in frames]
        cells += [depth_colour(clip.depth[t], clip.depth_scale) for t in frames]
        cells.append(skeleton_panel(clip, list(range(s, e, max(1, (e - s) // 6))) + [e - 1], H, W))
        row = np.hstack([np.pad(c, ((1, 1), (1, 1), (0, 0)), constant_values=255) for c in cells])
        rows.append(row)
    header = np.full((22, rows[0].shape[1], 3), 255, np.uint8)
    x = 112
    for title in ("RGB: start / middle / end of the gesture", "depth (near red, far blue, black = no data)", "skeleton"):
        cv2.putText(header, title, (x + 4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        x += 3 * (W + 2)
    return np.vstack([header] + rows)


def write_preview(path: Path, *, seed: int = 0, config: SynthConfig = SynthConfig(), workers: int = 2) -> Path:
    """Generate one clip per label (seed ``seed``) and save the contact sheet as a PNG."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise BadInput(f"--preview wants a .png path, got {path}")
    clips = list(synthetic.clips(seed, len(config.labels), config, workers=workers))
    clips.sort(key=lambda c: config.labels.index(c.label))
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), contact_sheet(clips)):
        raise BadInput(f"cannot write {path}")
    return path
