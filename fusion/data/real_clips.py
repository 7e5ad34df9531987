"""Real keypoint-table rows → training clips: each row a real hand held still.

The tables of a real folder (``fusion.data.readers.real``) hold one person's MediaPipe landmarks of
open hands, fists, pointing fingers and an OK sign, without z. Their training rows
(``table_split``: every other block of 50 neighbouring rows; the other blocks are what
``eval --real`` scores) become clips of a hand held still for ``frames`` frames, with MediaPipe's
frame-to-frame jitter, at a random place and size in the frame, through the same preprocessing as
every other clip. A table row's label is the table's, except where the label means something else
in this vocabulary: an open hand aimed more than ``OPEN_PALM_AIM`` from up is ``no_gesture`` (a hand
held sideways or hanging down is no open palm; docs/synthetic.md), and one between that and
``OPEN_PALM_AIM_MAX`` is left out (no one can say).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from fusion.data.model_inputs import PreparedClips, prepare_frames
from fusion.data.readers.real import TABLE_FRAME, read_manifest, read_table, table_split
from fusion.errors import BadInput
from fusion.labels import NO_GESTURE
from fusion.preprocess import InputSpec

OPEN_PALM_AIM, OPEN_PALM_AIM_MAX = 55.0, 80.0  # degrees from up: an open palm, and surely none
JITTER = 0.002  # MediaPipe's landmark jitter on a still hand, image fractions


def fingers_aim(hands: np.ndarray) -> np.ndarray:
    """Angle of wrist → middle-finger MCP in the image, degrees from up, ``(N,)`` for ``(N, 21, ≥2)``."""
    v = hands[:, 9, :2] - hands[:, 0, :2]
    return np.degrees(np.arctan2(v[:, 0], -v[:, 1]))


def table_clips(root: str | Path, labels: Sequence[str], spec: InputSpec, *, frames: int = 32, every: int = 2,
                seed: int = 0) -> PreparedClips:
    """Clips of the training rows (every ``every``-th) of the keypoint tables listed in ``root``."""
    rng = np.random.default_rng([seed, 31])
    lookup = {name: i for i, name in enumerate(labels)}
    skeletons, label_ids = [], []
    for table in read_manifest(root).tables:
        if table.kind != "keypoints":
            continue
        rows, names = read_table(table)
        train, _ = table_split(names)
        train = train[::every]
        aim = np.abs(fingers_aim(rows[train] * [-1.0, 1.0]))
        for i, angle in zip(train, aim):
            name = names[i]
            if name == "open_palm" and angle > OPEN_PALM_AIM:
                if angle < OPEN_PALM_AIM_MAX:
                    continue
                name = NO_GESTURE
            if name not in lookup:
                raise BadInput(f"{table.path}: label {name!r} is not among the model's labels")
            skeletons.append(_held(rows[i], rng, frames))
            label_ids.append(lookup[name])
    if not skeletons:
        raise BadInput(f"{root}: no keypoint-table rows to train on")
    aspect = TABLE_FRAME[0] / TABLE_FRAME[1]
    empty_rgb, empty_depth = np.zeros((frames, 0, 0, 3), np.uint8), np.zeros((frames, 0, 0), np.uint16)
    present = np.ones(frames, bool)
    prepared = [prepare_frames(empty_rgb, empty_depth, 0.001, s, present, None, spec, aspect=aspect)[2]
                for s in skeletons]
    n = len(prepared)
    return PreparedClips(rgb=np.zeros((n, frames, 0, 0, 3), np.uint8), depth=np.zeros((n, frames, 0, 0), np.float16),
                         skeleton=np.stack(prepared), label=np.array(label_ids, np.int64),
                         active=np.tile(np.array([[0, frames]], np.int32), (n, 1)), labels=tuple(labels), spec=spec,
                         missing=("depth", "rgb"))


def _held(row: np.ndarray, rng: np.random.Generator, frames: int) -> np.ndarray:
    """A table row (21, 2) as a hand held still for ``frames`` frames: (frames, 21, 3) landmarks of the
    camera's own view, at a random place and size, z unknown (0)."""
    width, height = TABLE_FRAME
    span = rng.uniform(0.15, 0.4) * height                       # the row's largest offset, pixels
    wrist = np.array([rng.uniform(0.25, 0.75) * width, rng.uniform(0.45, 0.85) * height])
    pixels = wrist + row * span                                  # (21, 2), selfie view
    image = np.zeros((frames, 21, 3), np.float32)
    image[:, :, 0] = 1.0 - pixels[:, 0] / width                  # selfie → camera view
    image[:, :, 1] = pixels[:, 1] / height
    image[:, :, :2] += rng.normal(0.0, JITTER, (frames, 21, 2))
    return image
