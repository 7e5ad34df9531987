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
- ``viewed`` (with ``view_deg``): the hand turned out of the picture about its own axes (yaw, then
  pitch), from its landmarks' z; ``other_hand`` (with ``fingers``): made by a hand of other finger
  lengths. The recipe for new gestures uses both (``fusion.teach.NewGestures``), the one for known
  gestures neither (docs/BENCHMARKS.md "Teach" measures why).

    copies = varied_copies(takes, 24, np.random.default_rng(0), turn_deg=60.0, speed=(0.67, 1.5))
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from fusion.data.synthetic.hand_stats import FINGERS
from fusion.preprocess import MIDDLE_MCP, SKELETON_CHANNELS

if TYPE_CHECKING:  # keeps torch out of the command line's import
    from fusion.data.model_inputs import PreparedClips

_DX, _DY, _DZ, _X, _Y, _SCALE, _PRESENCE = (SKELETON_CHANNELS.index(c)
                                            for c in ("dx", "dy", "dz", "x", "y", "scale", "presence"))


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
    dx, dy = out[:, _DX].copy(), out[:, _DY].copy()
    shape = out[:, [_DX, _DY, _DZ]]
    shape[:, 0], shape[:, 1] = c * dx - s * dy, s * dx + c * dy
    return _reshaped(skeleton, out, shape)


def _aspect(skeleton: np.ndarray) -> float:
    """The captured frame's height/width ratio as a clip's own channels show it (y offsets = dy x size x it)."""
    x = skeleton.astype(np.float32)
    size = x[:, _SCALE, :1]
    across = np.sum((x[:, _DY] * size) ** 2)
    return float(np.sum((x[:, _Y] - x[:, _Y, :1]) * x[:, _DY] * size) / across) if across > 0 else 1.0


def _reshaped(skeleton: np.ndarray, out: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """``out`` (float32 copy of ``skeleton``) given the hand ``shape`` (T, 3, J) in the clip's hand-size units:
    the shape channels rescaled by the change in the wrist → middle-finger base length in the picture (the
    size channel with it; an in-plane turn leaves both), the joints' image positions rebuilt about the
    wrist, which stays where it was; frames without a hand zeros."""
    aspect = _aspect(skeleton)
    before = np.linalg.norm(out[:, [_DX, _DY], MIDDLE_MCP], axis=1)
    after = np.linalg.norm(shape[:, :2, MIDDLE_MCP], axis=1)
    length = np.where((before > 1e-3) & (after > 1e-3), after / np.maximum(before, 1e-3), 1.0)[:, None]  # (T, 1)
    size = out[:, _SCALE, :1] * length
    out[:, _DX], out[:, _DY], out[:, _DZ] = (shape[:, k] / length for k in range(3))
    out[:, _SCALE] = size
    out[:, _X] = out[:, _X, :1] + out[:, _DX] * size
    out[:, _Y] = out[:, _Y, :1] + out[:, _DY] * size * aspect
    out *= out[:, _PRESENCE:_PRESENCE + 1] > 0  # no hand, no coordinates
    return out.astype(skeleton.dtype)


def viewed(skeleton: np.ndarray, yaw: float, pitch: float) -> np.ndarray:
    """One clip's skeleton (T, C, J) with the hand turned about its own axes, the same in every frame:
    ``yaw`` radians about the wrist → middle-finger base line (the hand seen more from its side), then
    ``pitch`` about the line across the palm (tipped towards or away from the camera); weak perspective.
    The axes are each frame's own, so a hand that rocks in the picture rocks as before. A hand tipped
    away looks shorter: the size channel shrinks with its wrist → middle-finger base length in the
    picture, and the shape channels, in units of that length, grow to match."""
    out = skeleton.astype(np.float32)
    x, y, z = (out[:, k].copy() for k in (_DX, _DY, _DZ))
    up = np.arctan2(x[:, MIDDLE_MCP], -y[:, MIDDLE_MCP])[:, None]  # each frame's lean from upright (0: up)
    c, s = np.cos(up), np.sin(up)
    x, y = c * x + s * y, -s * x + c * y  # upright: the middle-finger base straight up (-y)
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    x, z = cy * x + sy * z, -sy * x + cy * z
    y, z = cp * y - sp * z, sp * y + cp * z
    x, y = c * x - s * y, s * x + c * y  # leaning as it was
    return _reshaped(skeleton, out, np.stack([x, y, z], axis=1))


def other_hand(skeleton: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """One clip's skeleton (T, C, J) of 21 joints made by a hand whose fingers are ``lengths`` (5,) times
    as long, in MediaPipe's order thumb to little finger (``hand_stats.FINGERS``: the bones past each
    finger's base scaled, the palm as it was), the same in every frame."""
    out = skeleton.astype(np.float32)
    shape = out[:, [_DX, _DY, _DZ]]
    new = shape.copy()
    for finger, factor in zip(FINGERS, lengths):
        for parent, child in pairwise(finger):
            new[:, :, child] = new[:, :, parent] + factor * (shape[:, :, child] - shape[:, :, parent])
    return _reshaped(skeleton, out, new)


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
                  speed: tuple[float, float], span: bool = True, view_deg: float = 0.0,
                  fingers: float = 0.0) -> PreparedClips:
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
        if view_deg > 0:
            skeleton[k] = viewed(skeleton[k], *np.radians(rng.uniform(-view_deg, view_deg, 2)))
        if fingers > 0 and skeleton.shape[-1] == 21:
            skeleton[k] = other_hand(skeleton[k], 1.0 + rng.uniform(-fingers, fingers, 5))
    return PreparedClips(rgb=takes.rgb[index], depth=takes.depth[index], skeleton=skeleton, label=takes.label[index],
                         active=active, labels=takes.labels, spec=takes.spec, missing=takes.missing)
