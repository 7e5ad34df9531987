"""A contact sheet: for each gesture, RGB and depth at three moments and the skeleton's motion."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fusion.data.synthetic import world
from fusion.data.synthetic.clip import Clip
from fusion.data.synthetic.hand_stats import BONES
from fusion.data.synthetic.world import SynthConfig
from fusion.errors import BadInput


def depth_colour(depth: np.ndarray, scale: float, near: float = 0.3, far: float = 2.0) -> np.ndarray:
    """uint16 depth -> BGR (near = warm, far = cold, no data = black)."""
    z = depth.astype(np.float32) * scale
    v = np.clip((far - z) / (far - near), 0, 1)
    out = cv2.applyColorMap((v * 255).astype(np.uint8), cv2.COLORMAP_JET)
    out[depth == 0] = 0
    return out


def skeleton_panel(clip: Clip, frames: list[int], h: int, w: int) -> np.ndarray:
    """The skeleton at the given frames drawn over each other, early blue to late red (BGR),
    zoomed onto the region the hand covers."""
    panel = np.full((h, w, 3), 24, np.uint8)
    shown = [t for t in frames if clip.presence[t]]
    if not shown:
        cv2.putText(panel, "no skeleton", (4, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (200, 200, 200), 1, cv2.LINE_AA)
        return panel
    pts = clip.skeleton[shown, :, :2] * [w, h]                      # (F, 21, 2) pixels
    lo, hi = pts.reshape(-1, 2).min(0), pts.reshape(-1, 2).max(0)
    zoom = min(3.0, 0.9 * min(w / max(hi[0] - lo[0], 1), h / max(hi[1] - lo[1], 1)))
    offset = np.array([w, h]) / 2 - zoom * (lo + hi) / 2
    for n, t in enumerate(shown):
        a = n / max(1, len(shown) - 1)
        colour = (int(255 * (1 - a)), 80, int(255 * a))
        p = np.round(pts[n] * zoom + offset).astype(int)
        for i, j in BONES:
            cv2.line(panel, (int(p[i, 0]), int(p[i, 1])), (int(p[j, 0]), int(p[j, 1])), colour, 1, cv2.LINE_AA)
        cv2.circle(panel, (int(p[4, 0]), int(p[4, 1])), 2, (0, 255, 255), -1)   # thumb tip
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
    for title in ("RGB: start / middle / end of the gesture", "depth (near red, far blue, black = no data)", "skeleton motion"):
        cv2.putText(header, title, (x + 4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        x += 3 * (W + 2)
    return np.vstack([header] + rows)


def _hand_size(clip: Clip) -> float:
    s, e = clip.active
    seen = clip.presence[s:e]
    if not seen.any():
        return 0.0
    palm = clip.skeleton[s:e][seen][:, 9, :2] - clip.skeleton[s:e][seen][:, 0, :2]
    return float(np.linalg.norm(palm, axis=-1).mean() * seen.mean())


def write_preview(path: Path, *, seed: int = 0, config: SynthConfig = SynthConfig(), workers: int = 2,
                  candidates: int = 3) -> Path:
    """Save a contact sheet PNG: per label, of ``candidates`` clips (seed ``seed``), the one whose
    hand is seen largest, so that a person can judge each class at a glance."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise BadInput(f"--preview wants a .png path, got {path}")
    best: dict[str, Clip] = {}
    for clip in world.clips(seed, candidates * len(config.labels), config, workers=workers):
        if clip.label not in best or _hand_size(clip) > _hand_size(best[clip.label]):
            best[clip.label] = clip
    clips = [best[label] for label in config.labels]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), contact_sheet(clips)):
        raise BadInput(f"cannot write {path}")
    return path
