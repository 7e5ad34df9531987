"""Held hand poses: the vocabulary's static gestures, hand shapes outside it, and how each is held.

A ``HeldPose`` is a hand shape (``hand.POSE_FIELDS`` angles, degrees) with the ways a person shows
it: which part aims where in the image (the fingers, the index, the thumb), how far the palm may
turn from the camera, and how often the back of the hand is shown. ``draw_held`` draws one such
hand; ``class_poses`` says which shapes each label has, ``NEGATIVES`` the shapes that must stay
``no_gesture`` (an OK sign, a "call", four fingers, an open hand hanging down …).

The prototypes come from fitting the kinematic hand to MediaPipe landmarks of real hands
(``scripts/fit_real_poses.py`` on the development set: the MediaPipe test photos of a thumbs-up, fist, pointing
finger and victory, and 4,450 table rows of open hands, fists and pointing fingers): curled
fingers bend about 65° / 100° / 40° at MCP / PIP / DIP, a fist's thumb lies across the middle
phalanges, a thumbs-up's thumb is straight and abducted about 47°. Real hands vary around them
more than joint by joint: each draw curls every finger as a whole looser or tighter
(``CURL_SPREAD``), then jitters each joint. What the labels mean where the real data disagree with
itself is documented in docs/synthetic.md ("What each label means").

Aim directions are angles in the image, 0 = up, positive = clockwise in the raw (unmirrored) image;
every range here is symmetric, so the mirrored preview reads the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusion.data.synthetic import hand
from fusion.labels import NO_GESTURE

# Finger shapes (abduction, MCP, PIP, DIP) and thumb shapes (opposition, elevation, MCP, IP).
CURLED = (65, 100, 40)
HALF = (35, 55, 25)
STRAIGHT = (6, 10, 8)
FLAT = (0, 4, 2)                  # an open palm's fingers: straight, a little bent back at most
THUMB_OUT = (45, 5, 6, 4)         # straight and away from the index: thumbs-up, open palm, "call"
THUMB_UP_SIDE = (72, 8, 5, 4)     # straight, square to the fingers: a thumbs-up shown from the side
THUMB_SIDE = (18, 0, 8, 8)        # straight, along the index: an open hand with the fingers together
THUMB_ACROSS = (17, -3, 28, 62)   # over the curled fingers: fist, pointing finger, victory
THUMB_TUCKED = (5, 35, 40, 40)    # folded into the palm: "four"
THUMB_RING = (15, 20, 20, 20)     # its tip on the index tip (index curled 40/50/30): the OK sign
THUMB_ALONG = (10, 8, 20, 15)     # straight-ish along the curled index: another way to hold a fist


def shape(index, middle, ring, pinky, thumb, abd=(0, 0, 0, 0)) -> np.ndarray:
    """A pose from the four fingers' (MCP, PIP, DIP), the thumb's four angles and the abductions."""
    fingers = [(a, *f) for a, f in zip(abd, (index, middle, ring, pinky))]
    return np.array([v for f in fingers for v in f] + list(thumb), dtype=np.float64)


SPREAD = (12, 0, -10, -20)
TOGETHER = (3, 0, -3, -6)


@dataclass(frozen=True)
class HeldPose:
    """A hand shape and how it is held (see the module docstring)."""

    pose: np.ndarray                  # (20,) degrees
    aim: str = "fingers"              # "fingers" (wrist → middle MCP), "index" (MCP → tip), "thumb" (MCP → tip)
    aim_deg: tuple[float, float] = (-180.0, 180.0)   # allowed aim angles (0 = up); |angle| within for pairs
    up_weight: float = 0.0            # chance the aim is drawn within ±45° of up instead (pointing, fists)
    turn_deg: float = 35.0            # std of the palm's turn away from the camera (yaw and pitch)
    turn_uniform: bool = False        # yaw drawn uniformly within ±turn_deg (a hand shown from any side)
    back: float = 0.0                 # chance the back of the hand faces the camera
    jitter: float = 7.0               # std of each joint angle, degrees
    abs_range: bool = True            # aim_deg bounds |angle| (a symmetric pair of ranges)


THUMBS_ABD = (-6, -15, -11, -4)
THUMBS = (shape(CURLED, CURLED, CURLED, CURLED, THUMB_OUT, THUMBS_ABD),                   # fingers tight
          shape((40, 60, 30), (55, 80, 35), CURLED, CURLED, THUMB_OUT, THUMBS_ABD),       # index looser
          shape((40, 60, 30), (55, 80, 35), CURLED, CURLED, THUMB_UP_SIDE, THUMBS_ABD))   # thumb square


def _thumbs(aim_deg: tuple[float, float]) -> tuple[HeldPose, ...]:
    """The thumbs' hand shapes with the thumb aimed within ``aim_deg``, the hand seen from any side."""
    return tuple(HeldPose(pose, aim="thumb", aim_deg=aim_deg, turn_deg=110, turn_uniform=True, back=0.2)
                 for pose in THUMBS)


POSITIVES: dict[str, tuple[HeldPose, ...]] = {
    "thumbs_up": _thumbs((0, 70)),
    "thumbs_down": _thumbs((125, 180)),
    "open_palm": (HeldPose(shape(FLAT, FLAT, FLAT, FLAT, (48, 5, 6, 6), SPREAD), aim_deg=(0, 55), back=0.15),
                  HeldPose(shape(FLAT, FLAT, FLAT, FLAT, THUMB_SIDE, TOGETHER), aim_deg=(0, 45), back=0.1),
                  HeldPose(shape(FLAT, FLAT, FLAT, FLAT, THUMB_OUT, TOGETHER), aim_deg=(0, 50), back=0.1)),
    "fist": (HeldPose(shape(CURLED, CURLED, CURLED, CURLED, THUMB_ACROSS, (4, -6, -11, -14)), up_weight=0.6,
                      turn_deg=50, back=0.35),
             HeldPose(shape((48, 90, 43), CURLED, CURLED, CURLED, THUMB_ALONG, (-4, -7, -11, -16)), up_weight=0.6,
                      turn_deg=50, back=0.35)),
    "victory": (HeldPose(shape(STRAIGHT, STRAIGHT, CURLED, CURLED, THUMB_ACROSS, (16, -5, -11, -16)), aim_deg=(0, 65),
                         back=0.2),),
    "pointing_up": (HeldPose(shape(STRAIGHT, CURLED, CURLED, CURLED, THUMB_ACROSS, (8, -6, -11, -14)), aim="index",
                             up_weight=0.55, turn_deg=50, back=0.3),
                    HeldPose(shape(STRAIGHT, (73, 85, 40), (80, 80, 38), (75, 86, 39), (0, 15, 25, 10), (4, -3, -12, -22)),
                             aim="index", up_weight=0.55, turn_deg=50, back=0.3)),
}

# Shapes outside the vocabulary, and vocabulary shapes held where they mean nothing.
NEGATIVES: dict[str, HeldPose] = {
    "four": HeldPose(shape(STRAIGHT, STRAIGHT, STRAIGHT, STRAIGHT, THUMB_TUCKED, SPREAD), aim_deg=(0, 120)),
    "four_together": HeldPose(shape(STRAIGHT, STRAIGHT, STRAIGHT, STRAIGHT, THUMB_TUCKED, TOGETHER), aim_deg=(0, 120)),
    "call": HeldPose(shape(CURLED, CURLED, CURLED, STRAIGHT, THUMB_OUT, (0, -6, -11, -25)), turn_deg=50, back=0.3),
    "rock": HeldPose(shape(STRAIGHT, CURLED, CURLED, STRAIGHT, THUMB_ACROSS, (6, -4, -8, -20)), aim_deg=(0, 120), back=0.3),
    "ok": HeldPose(shape((40, 50, 30), STRAIGHT, STRAIGHT, STRAIGHT, THUMB_RING, (6, -2, -10, -18)), aim_deg=(0, 120),
                   back=0.2, jitter=4.0),
    "three": HeldPose(shape(STRAIGHT, STRAIGHT, CURLED, CURLED, THUMB_OUT, (14, -4, -11, -16)), aim_deg=(0, 120), back=0.2),
    "three2": HeldPose(shape(STRAIGHT, STRAIGHT, STRAIGHT, CURLED, THUMB_ACROSS, (10, 0, -10, -16)), aim_deg=(0, 120),
                       back=0.2),
    "two_together": HeldPose(shape(STRAIGHT, STRAIGHT, CURLED, CURLED, THUMB_ACROSS, (2, -2, -9, -14)), back=0.2),
    "little_finger": HeldPose(shape(CURLED, CURLED, CURLED, STRAIGHT, THUMB_ACROSS, (4, -6, -11, -18)), back=0.3),
    "middle_finger": HeldPose(shape(CURLED, STRAIGHT, CURLED, CURLED, THUMB_ACROSS, (4, 0, -11, -14)), back=0.3),
    "l_shape": HeldPose(shape(STRAIGHT, CURLED, CURLED, CURLED, (55, 5, 5, 4), (8, -6, -11, -14)), back=0.3),
    "gun": HeldPose(shape(STRAIGHT, STRAIGHT, CURLED, CURLED, (50, 5, 5, 4), (3, -2, -10, -14)), back=0.3),
    "claw": HeldPose(shape((40, 60, 30), (40, 60, 30), (40, 60, 30), (40, 60, 30), (40, 20, 20, 20), SPREAD), back=0.3),
    "relaxed": HeldPose(shape(HALF, HALF, HALF, HALF, (25, 20, 15, 20), (4, 0, -4, -9)), back=0.3, jitter=10),
    "open_sideways": HeldPose(shape(STRAIGHT, STRAIGHT, STRAIGHT, STRAIGHT, THUMB_SIDE, TOGETHER), aim_deg=(75, 180)),
    "open_spread_sideways": HeldPose(shape(STRAIGHT, STRAIGHT, STRAIGHT, STRAIGHT, (38, 0, 6, 8), SPREAD),
                                     aim_deg=(85, 180)),
    "open_edge_on": HeldPose(shape(STRAIGHT, STRAIGHT, STRAIGHT, STRAIGHT, THUMB_SIDE, TOGETHER), turn_deg=0.0),
    "two_down": HeldPose(shape(STRAIGHT, STRAIGHT, CURLED, CURLED, THUMB_ACROSS, (10, -4, -11, -16)), aim_deg=(120, 180)),
}
EDGE_ON_DEG = (65.0, 90.0)  # how far "open_edge_on" turns the palm from the camera
# Each finger's (and the thumb's) bends scaled together by 1 + N(0, CURL_SPREAD): real hands curl a finger
# as a whole tighter or looser than the prototype (the development set's victory: little finger's MCP
# 44° where the prototype has 65°), while a straight finger stays straight.
CURL_SPREAD = 0.15
_FLEXION = tuple((4 * f + 1, 4 * f + 2, 4 * f + 3) for f in range(4)) + ((18, 19),)


def class_poses(label: str) -> tuple[HeldPose, ...]:
    """The held shapes of a static label; for ``no_gesture``, every negative shape."""
    if label == NO_GESTURE:
        return tuple(NEGATIVES.values())
    return POSITIVES[label]


def _aim_vector(joints: np.ndarray, aim: str) -> np.ndarray:
    a, b = {"fingers": (0, 9), "index": (5, 8), "thumb": (2, 4)}[aim]
    return joints[b] - joints[a]


def _draw_aim(rng: np.random.Generator, held: HeldPose) -> float:
    if held.up_weight and rng.random() < held.up_weight:
        return float(rng.uniform(-45.0, 45.0))
    lo, hi = held.aim_deg
    angle = float(rng.uniform(lo, hi))
    if held.abs_range and rng.random() < 0.5:
        angle = -angle
    return angle


def _turn(rng: np.random.Generator, held: HeldPose, name: str | None) -> np.ndarray:
    """The hand's rotation vector (applied to ``hand.R_FACING``) before the aim is set by a roll."""
    if name == "open_edge_on":
        yaw = np.radians(rng.uniform(*EDGE_ON_DEG)) * rng.choice([-1.0, 1.0])
        return hand.rotvec_of(hand.rotation([0.0, yaw, 0.0]) @ hand.rotation([rng.normal(0, 0.2), 0.0, 0.0]))
    yaw, pitch = np.radians(rng.normal(0.0, held.turn_deg, 2))
    if held.turn_uniform:
        yaw, pitch = np.radians(rng.uniform(-held.turn_deg, held.turn_deg)), np.radians(rng.normal(0.0, 25.0))
    if rng.random() < held.back:
        yaw += np.pi
    return hand.rotvec_of(hand.rotation([pitch, 0.0, 0.0]) @ hand.rotation([0.0, yaw, 0.0]))


def draw_held(rng: np.random.Generator, subject: hand.Subject, held: HeldPose, *, name: str | None = None
              ) -> tuple[np.ndarray, np.ndarray, float]:
    """A pose (20,), rotation vector (3,) and roll (radians, clockwise in the raw image) that hold
    ``held``: the aimed part points within the allowed angles and is not foreshortened to a point."""
    pose = held.pose.copy()
    for joints in _FLEXION:
        pose[list(joints)] *= 1.0 + rng.normal(0.0, CURL_SPREAD)
    pose = hand.clamp_pose(pose + rng.normal(0.0, held.jitter, hand.POSE_SIZE))
    local = hand.joints_local(subject, pose)
    wrist = np.array([0.0, 0.0, 0.6])
    for _ in range(24):
        rotvec = _turn(rng, held, name)
        joints = hand.to_camera(subject, local, rotvec, 0.0, wrist)
        v = _aim_vector(joints, held.aim)
        if np.linalg.norm(v[:2]) < 0.5 * np.linalg.norm(v):
            continue  # the aimed part points at (or away from) the camera: its direction is not seen
        current = float(np.degrees(np.arctan2(v[0], -v[1])))
        return pose, rotvec, float(np.radians(_draw_aim(rng, held) - current))
    return pose, rotvec, 0.0


def draw_class(rng: np.random.Generator, subject: hand.Subject, label: str) -> tuple[np.ndarray, np.ndarray, float]:
    """A held hand of a static label (or of a random negative shape for ``no_gesture``)."""
    if label == NO_GESTURE:
        name = str(rng.choice(list(NEGATIVES)))
        return draw_held(rng, subject, NEGATIVES[name], name=name)
    options = POSITIVES[label]
    return draw_held(rng, subject, options[int(rng.integers(len(options)))])
