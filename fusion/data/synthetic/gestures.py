"""Per-label hand performances: poses, 6-DoF wrist trajectories and human-like timing.

A performance is a ``Motion``: per frame a pose (``hand.POSE_FIELDS``, degrees), an orientation
(rotation vector applied to ``hand.R_FACING``), a roll about the camera axis applied after the
left-hand mirror, the wrist position in camera coordinates (metres) and whether a hand is in the
scene at all. Directions follow the project convention (fusion/labels.py): as the user sees
themselves in the MIRRORED preview. The frames are the camera's own, unmirrored view of a user who
faces it, so the user's left is the camera's +X: ``swipe_left`` moves the wrist towards +X (the
raw image's right edge); ``rotate_cw`` is clockwise in the mirrored preview, i.e.
counter-clockwise in the raw image.
"""

from __future__ import annotations

import numpy as np

from fusion.data.synthetic import hand, held_strokes
from fusion.data.synthetic.camera import Intrinsics
from fusion.data.synthetic.motion import Motion, minimum_jerk
from fusion.data.synthetic.poses import POSITIVES, draw_class
from fusion.labels import DYNAMIC_GESTURES, NO_GESTURE, STATIC_GESTURES


def _p(index, middle, ring, pinky, thumb) -> np.ndarray:
    return np.array([*index, *middle, *ring, *pinky, *thumb], dtype=np.float64)


# Poses of the dynamic gestures (degrees); each draw adds per-joint variation. The static gestures'
# shapes, and how they are held, are in poses.py.
POSES = {
    "open": _p((3, 10, 16, 18), (0, 14, 24, 6), (6, 8, 18, 4), (14, 4, 14, 10), (20, 22, 16, 26)),
    "spread": _p((12, 4, 6, 8), (0, 5, 8, 5), (-10, 4, 8, 5), (-20, 3, 8, 6), (45, 15, 6, 10)),
    "relaxed": _p((4, 25, 35, 20), (0, 28, 40, 18), (-4, 30, 42, 18), (-9, 32, 42, 20), (22, 30, 18, 25)),
    "pinch": _p((-3, 42, 38, 18), (-1, 48, 40, 16), (3, 52, 45, 18), (8, 55, 48, 20), (8, 42, 22, 12)),
    "pointing": POSITIVES["pointing_up"][0].pose,
}
def draw_pose(rng: np.random.Generator, name: str, jitter: float = 6.0) -> np.ndarray:
    return hand.clamp_pose(POSES[name] + rng.normal(0, jitter, hand.POSE_SIZE))


def _orient(rng: np.random.Generator, base=(0.0, 0.0, 0.0), spread: float = 0.22) -> np.ndarray:
    """A rotation vector near ``base`` (composed, random axis, ~spread radians)."""
    R = hand.rotation(rng.normal(0, spread, 3)) @ hand.rotation(np.asarray(base, dtype=np.float64))
    return hand.rotvec_of(R)


def _place(rng: np.random.Generator, cam: Intrinsics, z: float, u=(0.3, 0.7), v=(0.5, 0.8)) -> np.ndarray:
    """A wrist position at depth z whose image position lies in the given fractions of the frame."""
    return cam.unproject(rng.uniform(*u) * cam.width, rng.uniform(*v) * cam.height, z)


def _sway(rng: np.random.Generator, n: int, amp: float) -> np.ndarray:
    """Small smooth drift of the wrist (n, 3): sum of two random sinusoids per axis."""
    t = np.arange(n)[:, None] / 30.0
    out = np.zeros((n, 3))
    for _ in range(2):
        f = rng.uniform(0.3, 1.6, 3)
        out += rng.uniform(0.3, 1.0, 3) * amp * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi, 3))
    return out * np.array([1, 1, 0.6])


def _timing(rng: np.random.Generator, n: int, dur: tuple[int, int], min_start: int) -> tuple[int, int, np.ndarray]:
    """Stroke start, end and the warped minimum-jerk phase (n,) with human timing variation;
    the stroke starts at frame ``min_start`` or later."""
    d = int(rng.integers(dur[0], dur[1] + 1))
    d = max(2, min(d, n - min_start - 1))
    s = int(rng.integers(min_start, max(min_start + 1, n - d)))
    u = (np.arange(n) - s) / d
    gamma = rng.uniform(0.8, 1.25)
    return s, s + d, minimum_jerk(np.clip(u, 0, 1) ** gamma)


def _slow_lead(n: int, s: int, e: int, u: np.ndarray, back: float) -> tuple[int, int, np.ndarray]:
    """Stroke start, end and phase such that the lead-in, which covers ``back`` times the stroke's
    distance, goes at most half as fast as the stroke (the way to a gesture's start would otherwise
    look like the opposite gesture); the stroke is shortened when the ``n`` frames need it."""
    d = max(8, min(e - s, int((n - 1) / (1 + 2 * back))))
    start = max(s, min(n - 1 - d, int(np.ceil(2 * d * back))))
    if (start, d) == (s, e - s):
        return s, e, u
    return start, start + d, minimum_jerk(np.clip((np.arange(n) - start) / d, 0, 1))


def _inside(cam: Intrinsics, px: np.ndarray, u=(0.3, 0.7), v=(0.45, 0.8)) -> np.ndarray:
    """Pixel ``px`` moved into the given fractions of the frame's width and height."""
    return np.clip(px, [u[0] * cam.width, v[0] * cam.height], [u[1] * cam.width, v[1] * cam.height])


def _blend(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    w = w.reshape((-1,) + (1,) * (np.ndim(a)))
    return a[None] * (1 - w) + b[None] * w


class Start:
    """Where a segment begins: the previous segment's last state, or a fresh random one."""

    def __init__(self, pose: np.ndarray, rotvec: np.ndarray, wrist: np.ndarray):
        self.pose, self.rotvec, self.wrist = pose, rotvec, wrist

    @classmethod
    def random(cls, rng: np.random.Generator, cam: Intrinsics, z: float) -> "Start":
        return cls(draw_pose(rng, "relaxed", 10), _orient(rng, spread=0.3), _place(rng, cam, z, v=(0.6, 0.95)))

    @classmethod
    def of(cls, motion: Motion) -> "Start":
        return cls(motion.pose[-1], motion.rotvec[-1], motion.wrist[-1])


def perform(label: str, rng: np.random.Generator, cam: Intrinsics, n: int, start: Start | None = None,
            z: float | None = None, *, subject: hand.Subject | None = None) -> Motion:
    """The hand performing ``label`` over ``n`` frames (the label holds in ``[start, end)``);
    ``subject`` is the hand that performs it (static poses are aimed with its proportions)."""
    subject = subject or hand.average_subject()
    if z is None:
        z = float(rng.uniform(*{"push": (0.6, 1.1), "pull": (0.35, 0.8)}.get(label, (0.4, 0.95))))
    fresh = start is None          # an isolated clip: the hand starts close to where the gesture begins
    start = start or Start.random(rng, cam, z)
    if label in STATIC_GESTURES:
        return _static(label, rng, cam, n, start, subject)
    if label.startswith("swipe") and rng.random() < held_strokes.SHARE:
        return held_strokes.swipe(label, rng, cam, n, start, subject)
    if label in DYNAMIC_GESTURES:
        return _dynamic(label, rng, cam, n, start, fresh)
    if label == NO_GESTURE:
        return idle(rng, cam, n, start, subject=subject)
    raise ValueError(f"unknown label {label!r}")


def _approach(rng, n, start: Start, pose, rotvec, wrist, reach: int):
    """From ``start`` to the target state in ``reach`` frames (minimum jerk), then hold."""
    w = minimum_jerk(np.arange(n) / max(reach, 1))
    return (_blend(start.pose, pose, w), _blend(start.rotvec, rotvec, w), _blend(start.wrist, wrist, w))


def _near(rng, cam: Intrinsics, wrist: np.ndarray, spread: float, u=(0.25, 0.75), v=(0.45, 0.85)) -> np.ndarray:
    """A wrist position a few centimetres from ``wrist``, kept inside the given part of the image."""
    z = float(np.clip(wrist[2] + rng.normal(0, 0.04), 0.35, 1.05))
    target = np.array([wrist[0], wrist[1], z]) + rng.normal(0, spread, 3) * np.array([1, 1, 0])
    px = _inside(cam, cam.project(target), u, v)
    return cam.unproject(px[0], px[1], z)


def _static(label, rng, cam, n, start: Start, subject: hand.Subject) -> Motion:
    pose, rotvec, roll = draw_class(rng, subject, label)
    return _hold(rng, cam, n, start, pose, rotvec, roll)


ENTER_SHARE = 0.4  # of held hands that first come into view, fast, from below or a side


def _hold(rng, cam, n, start: Start, pose, rotvec, roll: float) -> Motion:
    """From ``start`` to a held hand (pose, orientation, roll) in a few frames, then held with a
    little sway and finger play; the label holds from the moment it is reached. ``ENTER_SHARE`` of
    them come into view first, quickly (a hand raised into view is not a swipe)."""
    wrist = _near(rng, cam, start.wrist, 0.03, u=(0.25, 0.75), v=(0.35, 0.8))
    reach = int(rng.integers(5, max(6, n // 3)))
    drawn = np.ones(n, bool)
    if rng.random() < ENTER_SHARE:
        side = rng.choice([[0.0, 1.0], [1.0, 0.3], [-1.0, 0.3]])
        outside = cam.project(wrist) + np.array(side) * np.array([cam.width, cam.height]) * 0.7
        start = Start(start.pose, start.rotvec, cam.unproject(*outside, wrist[2]))
        reach = int(rng.integers(3, 9))
        hidden = int(rng.integers(1, max(2, n // 4)))
        drawn[:hidden] = False
        reach += hidden
    poses_, rots, wrists = _approach(rng, n, start, pose, rotvec, wrist, reach)
    wrists = wrists + _sway(rng, n, 0.004)
    poses_ = poses_ + np.sin(np.arange(n)[:, None] / 30 * 2 * np.pi * rng.uniform(0.3, 1.0)) * rng.normal(0, 2, hand.POSE_SIZE)
    rolls = roll * minimum_jerk(np.arange(n) / max(reach, 1))
    s = min(reach, n - 1)
    return Motion(hand.clamp_pose(poses_), rots, rolls, wrists, drawn, s, n)


def _dynamic(label, rng, cam, n, start: Start, fresh: bool) -> Motion:
    """A stroke. In a stream (not ``fresh``) the stroke begins about where the hand already is, as a
    person's does: a long, fast lead-in to a far start point would itself look like the opposite
    gesture (the way to a swipe_left's start is a swipe_right). After the stroke the hand relaxes."""
    s, e, u = _timing(rng, n, (max(8, n // 3), max(10, (3 * n) // 4)), 2 if fresh else min(10, n // 3))
    z = float(start.wrist[2])
    here = cam.project(start.wrist)  # (2,) pixels: where the hand is now
    roll = np.zeros(n)
    pose_a = pose_b = draw_pose(rng, "open")
    rot = _orient(rng, spread=0.2)
    if label.startswith("swipe"):
        along = {"swipe_left": (1, 0), "swipe_right": (-1, 0), "swipe_up": (0, -1), "swipe_down": (0, 1)}[label]
        z = float(np.clip(z, 0.45, 1.05))
        size = np.array([cam.width, cam.height], dtype=np.float64)
        span = rng.uniform(0.45, 0.7) * (cam.width if along[0] else cam.height)
        centre = size * np.array([rng.uniform(0.4, 0.6), rng.uniform(0.5, 0.7)])
        a_px = centre - 0.5 * span * np.array(along)
        if not fresh:  # start from the hand, kept inside the frame with the whole stroke
            lo, hi = size * np.array([0.15, 0.3]), size * np.array([0.85, 0.85])
            ends = np.clip(np.stack([here, here + span * np.array(along)]), lo, hi)
            span = max(float(np.abs(ends[1] - ends[0]).max()), 0.4 * float(size[0 if along[0] else 1]))
            a_px = np.clip(ends[1] - span * np.array(along), lo, hi)
            # a hand that must first go back (a low hand before swipe_down) does so slowly
            s, e, u = _slow_lead(n, s, e, u, max(0.0, float(-(a_px - here) @ np.array(along))) / span)
        b_px = a_px + span * np.array(along)
        a = cam.unproject(*a_px, z)
        b = cam.unproject(*b_px, z)
        arc = np.array(along[::-1]) * rng.normal(0, 0.02)
        path = _blend(a, b, u)
        path[:, :2] += np.sin(np.pi * u)[:, None] * arc
        if rng.random() < 0.4:
            rot = _orient(rng, (0, rng.uniform(-0.7, 0.7), 0), 0.15)  # palm turned sideways
    elif label in ("push", "pull"):
        if label == "push":
            z0 = float(np.clip(z + rng.normal(0, 0.03), 0.6, 1.15))
            z1 = max(0.32, z0 - rng.uniform(0.18, 0.35))
        else:
            z0 = float(np.clip(z + rng.normal(0, 0.03), 0.35, 0.8))
            z1 = min(1.2, z0 + rng.uniform(0.18, 0.35))
        px = np.array([cam.width * rng.uniform(0.35, 0.65), cam.height * rng.uniform(0.55, 0.75)])
        if not fresh:
            px = _inside(cam, here)
        a = cam.unproject(*px, z0)
        b = cam.unproject(*px, z1) + rng.normal(0, 0.015, 3) * np.array([1, 1, 0])
        path = _blend(a, b, u)
        z = z0
    elif label in ("rotate_cw", "rotate_ccw"):
        sense = -1.0 if label == "rotate_cw" else 1.0   # cw in the mirrored preview = ccw in the raw image
        z = float(np.clip(z, 0.4, 1.0))
        r = rng.uniform(0.035, 0.07) * (z / 0.6) ** 0.5
        centre = _place(rng, cam, z, u=(0.4, 0.6), v=(0.45, 0.65))
        if not fresh:
            centre = cam.unproject(*_inside(cam, here, v=(0.4, 0.75)), z)
        phi0 = rng.uniform(0, 2 * np.pi)
        phi = phi0 + sense * 2 * np.pi * rng.uniform(0.8, 1.15) * u
        path = centre + r * np.stack([np.cos(phi), np.sin(phi), np.zeros(n)], axis=1) - r * np.array([np.cos(phi0), np.sin(phi0), 0])
        roll = sense * np.radians(rng.uniform(20, 45)) * u
        pose_a = pose_b = draw_pose(rng, "pointing" if rng.random() < 0.5 else "open")
    else:  # zoom_in: pinch -> spread; zoom_out: spread -> pinch
        z = float(np.clip(z, 0.35, 0.85))
        pinch, spread = draw_pose(rng, "pinch"), draw_pose(rng, "spread")
        pose_a, pose_b = (pinch, spread) if label == "zoom_in" else (spread, pinch)
        if not fresh:  # spreading the fingers before zoom_out is a zoom_in, unless done slowly
            change = float(np.abs(pose_b - pose_a).mean())
            s, e, u = _slow_lead(n, s, e, u, float(np.abs(pose_a - start.pose).mean()) / change)
        at = _place(rng, cam, z, u=(0.35, 0.65), v=(0.55, 0.75))
        if not fresh:
            at = cam.unproject(*_inside(cam, here), z)
        path = _blend(at, at + rng.normal(0, 0.01, 3), u)
    path = path + _sway(rng, n, 0.003)
    if fresh:  # an isolated clip begins with the hand near the stroke's first state
        start = Start(draw_pose(rng, "relaxed", 10), _orient(rng, rot, 0.15), path[0] + rng.normal(0, 0.02, 3) * [1, 1, 0.5])
    # Lead-in: from the start state to the stroke's first state before the stroke begins.
    lead = minimum_jerk(np.arange(n) / max(s, 1))
    poses = _blend(start.pose, pose_a, lead)
    poses = np.where((np.arange(n) >= s)[:, None], _blend(pose_a, pose_b, u), poses)
    if e < n:  # after the stroke the hand relaxes (an open hand held still would be open_palm)
        after = minimum_jerk((np.arange(n) - e + 1) / max(8, n - e))  # slowly: the next gap goes on
        poses = np.where((np.arange(n) >= e)[:, None], _blend(pose_b, draw_pose(rng, "relaxed", 8), after), poses)
    rots = _blend(start.rotvec, rot, lead)
    wrists = np.where((np.arange(n) >= s)[:, None], path, _blend(start.wrist, path[0], lead))
    roll = np.where(np.arange(n) >= s, roll, 0.0)
    return Motion(hand.clamp_pose(poses), rots, roll, wrists, np.ones(n, bool), s, e)


IDLE_KINDS = ("idle", "transition", "scratch", "leave", "absent", "held", "ready")
IDLE_WEIGHTS = (0.15, 0.15, 0.1, 0.1, 0.1, 0.3, 0.1)


def idle(rng, cam, n, start: Start, kind: str | None = None, *, subject: hand.Subject | None = None) -> Motion:
    """no_gesture: idle hands, slow transitions, scratching, a hand leaving the view, no hand.

    The hand between gestures never settles in a gesture's pose facing the camera (an open hand held
    still towards the camera *is* open_palm), so a continuous stream's no_gesture frames never show a
    gesture. ``open_away`` (streams only) is an open hand turned away from the camera, palm up, down
    or sideways, as a hand is carried or rests: open fingers alone are no gesture. ``held`` holds a
    hand shape outside the vocabulary, or a vocabulary shape where it means nothing
    (``poses.NEGATIVES``: an OK sign, four fingers, an open hand hanging down, …). ``ready`` holds
    a hand where a swipe would start, turned for it, with no stroke (``held_strokes.ready``).
    """
    kind = kind or str(rng.choice(IDLE_KINDS, p=IDLE_WEIGHTS))
    if kind == "ready":
        return held_strokes.ready(rng, cam, n, start, subject or hand.average_subject())
    if kind == "held":
        pose, rotvec, roll = draw_class(rng, subject or hand.average_subject(), NO_GESTURE)
        held = _hold(rng, cam, n, start, pose, rotvec, roll)
        return Motion(held.pose, held.rotvec, held.roll, held.wrist, held.drawn, 0, n)
    t = np.arange(n)
    drawn = np.ones(n, bool)
    if kind == "idle":
        target = start.wrist + rng.normal(0, 0.02, 3)
        poses, rots, wrists = _approach(rng, n, start, draw_pose(rng, "relaxed", 8), _orient(rng, start.rotvec, 0.1),
                                        target, n // 2)
        wrists = wrists + _sway(rng, n, 0.006)
    elif kind == "transition":  # part of the way towards some pose, never all the way to a gesture's
        pose = _blend(draw_pose(rng, "relaxed", 10), POSES[str(rng.choice(list(POSES)))], rng.uniform(0, 0.4, 1))[0]
        target = start.wrist + rng.normal(0, 0.03, 3) * np.array([1, 1, 0.5])
        poses, rots, wrists = _approach(rng, n, start, pose, _orient(rng, spread=0.5), target, int(rng.integers(n // 2, n + 1)))
        wrists = wrists + _sway(rng, n, 0.004)
    elif kind == "open_away":
        axis = np.array([*rng.normal(0, 1, 2), 0.0])
        away = axis / max(np.linalg.norm(axis), 1e-9) * rng.uniform(1.1, 1.9)   # 63..109 degrees from facing
        target = start.wrist + rng.normal(0, 0.04, 3) * np.array([1, 1, 0.5])
        poses, rots, wrists = _approach(rng, n, start, draw_pose(rng, str(rng.choice(["open", "spread"])), 8),
                                        hand.rotvec_of(hand.rotation(away)), target, int(rng.integers(n // 3, n)))
        wrists = wrists + _sway(rng, n, 0.006)
    elif kind == "scratch":
        pose = draw_pose(rng, "relaxed", 8)
        target = start.wrist + rng.normal(0, 0.02, 3)
        poses, rots, wrists = _approach(rng, n, start, pose, _orient(rng, start.rotvec, 0.3), target, n // 3)
        f = rng.uniform(3, 5.5)
        wave = np.sin(2 * np.pi * f * t / 30.0) * np.minimum(1, t / max(1, n // 3))
        amp = rng.uniform(12, 25)
        for finger in range(4):
            poses[:, 4 * finger + 1] += amp * (0.5 + 0.5 * wave)
            poses[:, 4 * finger + 2] += amp * (0.7 + 0.7 * wave)
        wrists = wrists + wave[:, None] * rng.normal(0, 0.004, 3)
    elif kind == "leave":
        direction = rng.choice([[1, 0], [-1, 0], [0, 1]])
        exit_px = np.array([cam.width / 2, cam.height / 2]) + np.array(direction) * np.array([cam.width, cam.height]) * 0.95
        target = cam.unproject(*exit_px, start.wrist[2])
        poses, rots, wrists = _approach(rng, n, start, draw_pose(rng, "relaxed", 10), start.rotvec, target,
                                        int(rng.integers(n // 2, n + 1)))
        if rng.random() < 0.5:  # or enters instead of leaving
            poses, rots, wrists = poses[::-1].copy(), rots[::-1].copy(), wrists[::-1].copy()
    else:  # absent
        poses = np.repeat(start.pose[None], n, 0)
        rots = np.repeat(start.rotvec[None], n, 0)
        wrists = np.repeat(start.wrist[None], n, 0)
        drawn[:] = False
    return Motion(hand.clamp_pose(poses), rots, np.zeros(n), wrists, drawn, 0, n)
