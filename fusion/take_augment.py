"""Varied copies of a user's takes for teaching: the hand turned, the gesture made faster or slower.

A handful of takes holds the hand at a handful of angles and speeds, and a fine-tune on them learns
those as part of the gesture: five waves whose hands happened to lean taught an earlier recipe "a
leaning open hand" (``benchmarks/bench_teach.py --wave``: most unseen waves made upright were called
open_palm). Each copy of a take is therefore drawn at another angle and speed, on the prepared
skeleton channels (``fusion.preprocess.SKELETON_CHANNELS``), before the training's own augmentation.
The angles cover what the user showed: where the takes of a gesture lean differently (open palms
held up, sideways and hanging down), the copies lean anywhere from the one extreme to the other, and
``turn_deg`` beyond; takes that all lean alike are turned by up to ``turn_deg`` either way. A
gesture of many takes gets fewer copies of each (``copies_per_take``).

- ``turned``: the hand's shape rotated in the image plane about the wrist, the same angle in every
  frame. Where the wrist goes is left alone, so a swipe keeps its direction and only the hand leans.
- ``time_warped``: the clip resampled about the middle of its gesture, ``factor`` times as fast (the
  gesture's frames ``active`` scale with it; past either end the clip holds its first or last frame).

    copies = varied_copies(takes, 24, np.random.default_rng(0), turn_deg=60.0, speed=(0.67, 1.5))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fusion.preprocess import MIDDLE_MCP, SKELETON_CHANNELS

if TYPE_CHECKING:  # keeps torch out of the command line's import
    from fusion.data.model_inputs import PreparedClips

_DX, _DY, _X, _Y, _SCALE, _PRESENCE = (SKELETON_CHANNELS.index(c) for c in ("dx", "dy", "x", "y", "scale", "presence"))


def lean(skeleton: np.ndarray) -> float | None:
    """How one clip's hand (T, C, J) leans: the angle (radians, the sense ``turned`` turns) of the wrist
    → middle-finger base direction, averaged over the frames that saw a hand; None where none did."""
    seen = skeleton[:, _PRESENCE, 0] > 0
    v = skeleton[seen][:, [_DX, _DY], MIDDLE_MCP].astype(np.float64)  # offsets from the wrist
    v = v[np.linalg.norm(v, axis=1) > 0]
    if not len(v):
        return None
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    return float(np.arctan2(unit[:, 1].sum(), unit[:, 0].sum()))


def turn_ranges(takes: PreparedClips, turn_deg: float) -> np.ndarray:
    """(N, 2) the turns (radians) each take's copies are drawn within: for the takes of one label, their
    leans (``lean``) about their circular mean span [low, high]; a copy lands anywhere within
    [low - turn_deg, high + turn_deg] (any angle once that is a full turn). A take without a hand, or
    alone, gets ±turn_deg."""
    turn = np.radians(turn_deg)
    ranges = np.tile([-turn, turn], (len(takes), 1))
    leans = np.array([np.nan if (a := lean(s)) is None else a for s in takes.skeleton])
    for label in np.unique(takes.label):
        index = np.flatnonzero((takes.label == label) & ~np.isnan(leans))
        if len(index) < 2:
            continue
        mean = np.arctan2(np.sin(leans[index]).sum(), np.cos(leans[index]).sum())
        offset = np.angle(np.exp(1j * (leans[index] - mean)))  # each take's lean about the mean, in (-pi, pi]
        low, high = offset.min() - turn, offset.max() + turn
        if high - low >= 2 * np.pi:
            low, high = -np.pi, np.pi
        ranges[index] = np.c_[low - offset, high - offset]
    return ranges


def turned(skeleton: np.ndarray, angle: float) -> np.ndarray:
    """One clip's skeleton (T, C, J) with the hand's shape turned by ``angle`` radians about the wrist
    (joint 0) in every frame; frames without a hand stay zeros.

    The shape channels are isotropic (hand-size units); the joints' image positions (x in image
    widths, y in image heights) are rebuilt from the turned shape, with the frame's aspect read off
    the clip itself (y offsets = shape offsets x size x width/height)."""
    out = skeleton.astype(np.float32)
    c, s = np.cos(angle), np.sin(angle)
    size = out[:, _SCALE, :1]
    dx, dy = out[:, _DX].copy(), out[:, _DY].copy()
    offset_y = out[:, _Y] - out[:, _Y, :1]
    across = np.sum((dy * size) ** 2)
    aspect = float(np.sum(offset_y * dy * size) / across) if across > 0 else 1.0
    out[:, _DX], out[:, _DY] = c * dx - s * dy, s * dx + c * dy
    out[:, _X] = out[:, _X, :1] + out[:, _DX] * size
    out[:, _Y] = out[:, _Y, :1] + out[:, _DY] * size * aspect
    out *= out[:, _PRESENCE:_PRESENCE + 1] > 0  # no hand, no coordinates
    return out.astype(skeleton.dtype)


def time_warped(skeleton: np.ndarray, active: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """One clip's skeleton (T, C, J) and gesture frames [start, end) played ``factor`` times as fast
    about the middle of the gesture, linearly interpolated; a hand counts as seen where both frames
    around a sample saw it."""
    frames = len(skeleton)
    start, end = float(active[0]), float(active[1])
    middle = (start + end) / 2
    source = np.clip(middle + (np.arange(frames) - middle) * factor, 0, frames - 1)
    lo = np.floor(source).astype(np.int64)
    hi = np.minimum(lo + 1, frames - 1)
    w = (source - lo)[:, None, None]
    x = skeleton.astype(np.float32)
    out = x[lo] * (1 - w) + x[hi] * w
    seen = np.minimum(x[lo, _PRESENCE], x[hi, _PRESENCE])
    out[:, _PRESENCE] = seen
    out *= seen[:, None, :] > 0
    warped = np.clip([np.floor(middle + (start - middle) / factor), np.ceil(middle + (end - middle) / factor)],
                     0, frames).astype(active.dtype)
    return out.astype(skeleton.dtype), warped


def copies_per_take(labels: np.ndarray, repeat: int, full: int) -> np.ndarray:
    """(N,) how many copies of each take: ``repeat``, and for a label of more than ``full`` takes fewer
    of each (at least one), so that it weighs about as much as ``full`` takes do."""
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    per = np.maximum(1, np.round(repeat * full / np.maximum(counts, full))).astype(np.int64)
    return per[inverse]


def varied_copies(takes: PreparedClips, copies: int | np.ndarray, rng: np.random.Generator, *, turn_deg: float,
                  speed: tuple[float, float], span: bool = True) -> PreparedClips:
    """``copies`` copies of every take (or of each, (N,)): the first as recorded, each other turned within
    the range the takes of its label lean over, widened by ``turn_deg`` either way (``turn_ranges``;
    without ``span`` by up to ±``turn_deg`` about the take itself), and played at a speed drawn
    log-uniformly from ``speed``."""
    from fusion.data.model_inputs import PreparedClips

    turn = np.radians(turn_deg)
    ranges = turn_ranges(takes, turn_deg) if span else np.tile([-turn, turn], (len(takes), 1))
    counts = np.broadcast_to(np.asarray(copies), (len(takes),))
    index = np.concatenate([np.flatnonzero(counts > round_) for round_ in range(int(counts.max()))])
    skeleton, active = takes.skeleton[index].copy(), takes.active[index].copy()
    for k in range(len(takes), len(index)):  # the first copy of each take stays as recorded
        factor = float(np.exp(rng.uniform(np.log(speed[0]), np.log(speed[1]))))
        skeleton[k], active[k] = time_warped(skeleton[k], active[k], factor)
        skeleton[k] = turned(skeleton[k], rng.uniform(*ranges[index[k]]))
    return PreparedClips(rgb=takes.rgb[index], depth=takes.depth[index], skeleton=skeleton, label=takes.label[index],
                         active=active, labels=takes.labels, spec=takes.spec, missing=takes.missing)
