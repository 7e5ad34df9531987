"""MediaPipe's readings of rendered hands: a file of landmarks as the webcam path sees them, and clips of it.

A real camera's skeleton is MediaPipe's reading of the hand, never the hand itself, and MediaPipe
reads a hand differently from the generator's true joints (its z above all: docs/RESULTS.md,
"MediaPipe's reading of a hand"). ``scripts/make_readings.py`` renders hands of the synthetic world,
runs MediaPipe's hand landmarker on frames of them (``realism.rendered_readings``) and writes what it
read with each hand's label to a readings file (``.npz``, plain arrays, read without pickle):

- ``read``: ``(N, 21, 3)`` float32, MediaPipe's image landmarks (x, y fractions of the frame, its z);
- ``hand``: ``(N,)`` str, MediaPipe's handedness (``Left``/``Right``);
- ``label``: ``(N,)`` str, the rendered hand's label;
- ``size``: ``(2,)`` int, the rendered frame's width and height.

``readings_clips`` turns each reading into a hand held still for a clip (``held_clips``: MediaPipe's
jitter added each frame), through the same preprocessing as every other clip, so that ``train --readings FILE``
teaches the skeleton stream MediaPipe's reading beside the skeleton world's true joints.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fusion.data.model_inputs import SKELETON_ONLY, PreparedClips, prepare_frames
from fusion.data.real_clips import JITTER  # MediaPipe's landmark jitter on a still hand
from fusion.errors import BadInput
from fusion.preprocess import InputSpec


def save_readings(path: str | Path, read: np.ndarray, hand: np.ndarray, label: np.ndarray,
                  size: tuple[int, int]) -> None:
    """Write a readings file (the arrays of the module docstring)."""
    np.savez_compressed(path, read=np.asarray(read, np.float32).reshape(-1, 21, 3), hand=np.asarray(hand, str),
                        label=np.asarray(label, str), size=np.asarray(size, np.int64))


def load_readings(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a readings file, checked; ``BadInput`` for a missing, damaged or malformed one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in ("read", "hand", "label", "size")}
    except FileNotFoundError:
        raise BadInput(f"{path}: no such readings file (scripts/make_readings.py writes one)") from None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise BadInput(f"{path}: not a readings file ({error})") from None
    read, hand, label, size = arrays["read"], arrays["hand"], arrays["label"], arrays["size"]
    n = len(read)
    if (read.ndim != 3 or read.shape[1:] != (21, 3) or hand.shape != (n,) or label.shape != (n,)
            or size.shape != (2,) or hand.dtype.kind != "U" or label.dtype.kind != "U"):
        raise BadInput(f"{path}: readings of the wrong shape (read {read.shape}, hand {hand.shape}, "
                       f"label {label.shape}, size {size.shape})")
    if not np.isfinite(read).all() or not (size > 0).all():
        raise BadInput(f"{path}: readings with non-finite landmarks or a frame size that is not positive")
    if not set(hand) <= {"Left", "Right"}:
        raise BadInput(f"{path}: handedness other than Left/Right: {sorted(set(hand) - {'Left', 'Right'})}")
    return arrays


def readings_clips(path: str | Path, labels: Sequence[str], spec: InputSpec, *, frames: int = 32,
                   seed: int = 0) -> PreparedClips:
    """Every reading of the file at ``path`` as a clip of a hand held still for ``frames`` frames."""
    data = load_readings(path)
    if not len(data["label"]):
        raise BadInput(f"{path}: no readings to train on")
    unknown = sorted(set(data["label"]) - set(labels))
    if unknown:
        raise BadInput(f"{path}: labels {unknown} are not among the model's labels")
    width, height = (int(v) for v in data["size"])
    return held_clips(data["read"], data["hand"], data["label"], labels, spec, frames=frames, aspect=width / height,
                      seed=seed)


def held_clips(read: np.ndarray, hand: np.ndarray, label: np.ndarray, labels: Sequence[str], spec: InputSpec, *,
               frames: int, aspect: float, seed: int = 0, copies: np.ndarray | None = None) -> PreparedClips:
    """Readings ``read`` (N, 21, 3) with their handedness and label names as clips of the hand held still
    for ``frames`` frames (MediaPipe's jitter on x and y each frame, z as read), ``copies[i]`` clips of
    reading i (default one each), in order, through the engine's preprocessing (``prepare_frames``)."""
    lookup = {name: i for i, name in enumerate(labels)}
    order = np.repeat(np.arange(len(read)), 1 if copies is None else copies)
    rng = np.random.default_rng([seed, 37])
    empty_rgb, empty_depth = np.zeros((frames, 0, 0, 3), np.uint8), np.zeros((frames, 0, 0), np.float16)
    present = np.ones(frames, bool)
    skeletons = []
    for i in order:
        held = np.repeat(read[i][None], frames, axis=0)
        held[:, :, :2] += rng.normal(0.0, JITTER, (frames, 21, 2))
        skeletons.append(prepare_frames(empty_rgb, empty_depth, 0.001, held, present, str(hand[i]), spec,
                                        aspect=aspect)[2])
    n = len(order)
    return PreparedClips(rgb=np.zeros((n, frames, 0, 0, 3), np.uint8), depth=np.zeros((n, frames, 0, 0), np.float16),
                         skeleton=np.stack(skeletons), label=np.array([lookup[str(label[i])] for i in order], np.int64),
                         active=np.tile(np.array([[0, frames]], np.int32), (n, 1)), labels=tuple(labels), spec=spec,
                         missing=SKELETON_ONLY)
