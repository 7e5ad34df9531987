"""Swipes as people make them at a webcam: the hand held still, one fast stroke that turns it, held again.

Measured on the real swipe videos of the development set (MediaPipe on 15 fps webcam clips, the
wrist frame by frame): the hand waits at one side with the fingers together (or two fingers out),
crosses 30-50 % of the frame in 7-13 frames (0.45-0.9 s) while it turns — a left/right swipe rolls
the hand from pointing backwards through upright to pointing the way it goes, an up/down swipe
flips it over from fingers-up to fingers-down — and MediaPipe loses it for up to half a second on
the way. Then the hand stays where it arrived. ``gestures.perform`` makes ``SHARE`` of its swipes
this way, the rest as smooth strokes.

The label holds from the stroke's start to just after it: neither the wait before it nor the hold
after it belong to the gesture (a hand held at one side, ready, is no swipe yet: labelled so, models
learnt to call the swipe from the waiting hand, and the hold after a swipe_right, which is where a
swipe_left would wait, became a swipe_left).
"""

from __future__ import annotations

import numpy as np

from fusion.data.synthetic import hand, poses
from fusion.data.synthetic.camera import Intrinsics
from fusion.data.synthetic.motion import Motion, minimum_jerk

SHARE = 0.6  # of the swipes drawn by gestures.perform
DIRECTIONS = {"swipe_left": (1, 0), "swipe_right": (-1, 0), "swipe_up": (0, -1), "swipe_down": (0, 1)}
HANDS = (("open_together", 0.45), ("open_spread", 0.3), ("two_together", 0.25))
_SHAPES = {
    "open_together": poses.shape(poses.STRAIGHT, poses.STRAIGHT, poses.STRAIGHT, poses.STRAIGHT, poses.THUMB_SIDE,
                                 poses.TOGETHER),
    "open_spread": poses.shape(poses.STRAIGHT, poses.STRAIGHT, poses.STRAIGHT, poses.STRAIGHT, (48, 5, 6, 6),
                               poses.SPREAD),
    "two_together": poses.NEGATIVES["two_together"].pose,
}


def _aim_of(subject: hand.Subject, pose: np.ndarray, rotvec: np.ndarray) -> float:
    """The fingers' direction in the image (degrees, 0 = up, clockwise positive) with no roll."""
    joints = hand.to_camera(subject, hand.joints_local(subject, pose), rotvec, 0.0, np.array([0.0, 0.0, 0.6]))
    v = joints[9] - joints[0]
    return float(np.degrees(np.arctan2(v[0], -v[1])))


def swipe(label: str, rng: np.random.Generator, cam: Intrinsics, n: int, start, subject: hand.Subject):
    """A held-stroke-held swipe over ``n`` frames from ``start`` (a ``gestures.Start``)."""
    along = np.array(DIRECTIONS[label], dtype=np.float64)
    horizontal = bool(along[0])
    names, weights = zip(*HANDS)
    pose = hand.clamp_pose(_SHAPES[str(rng.choice(names, p=weights))] + rng.normal(0, 6, hand.POSE_SIZE))
    z = float(np.clip(start.wrist[2] + rng.normal(0, 0.05), 0.45, 1.0))
    size = np.array([cam.width, cam.height], dtype=np.float64)
    if horizontal:
        span = rng.uniform(0.3, 0.6) * cam.width
        lo, hi = size * np.array([0.15, 0.35]), size * np.array([0.85, 0.7])
    else:
        span = rng.uniform(0.25, 0.5) * cam.height
        lo, hi = size * np.array([0.25, 0.15]), size * np.array([0.75, 0.85])
    # the stroke starts about where the hand already is, its whole length inside [lo, hi]
    first = np.where(along > 0, lo, np.where(along < 0, lo + span, lo))
    last = np.where(along > 0, hi - span, np.where(along < 0, hi, hi))
    a_px = np.clip(cam.project(start.wrist) + rng.normal(0, 0.05, 2) * size, first, np.maximum(first, last))
    b_px = a_px + span * along
    a, b = cam.unproject(*a_px, z), cam.unproject(*b_px, z)

    facing = hand.rotvec_of(hand.rotation(np.radians(rng.normal(0, 15, 3))))
    if horizontal:  # roll from pointing backwards, through upright, to pointing the way it goes
        base = _aim_of(subject, pose, facing)
        back, ahead = -np.sign(along[0]) * rng.uniform(45, 85), np.sign(along[0]) * rng.uniform(50, 85)
        roll_a, roll_b = np.radians(back - base), np.radians(ahead - base)
        rot_a = rot_b = facing
    else:  # flip over about the camera's x axis: fingers up above, fingers down below
        roll_a = roll_b = 0.0
        flip = hand.rotvec_of(hand.rotation([rng.choice([-1.0, 1.0]) * np.pi * rng.uniform(0.85, 1.0), 0, 0])
                              @ hand.rotation(facing))
        rot_a, rot_b = (facing, flip) if along[1] > 0 else (flip, facing)

    # lead-in (from wherever the hand is, at most half as fast as the stroke: a fast way back to the
    # start is the opposite swipe), hold, stroke, hold
    distance = float(np.linalg.norm(cam.project(start.wrist) - a_px))
    stroke = int(rng.integers(6, 28))                  # 0.2-0.9 s at 30 fps
    # shorter where the n frames leave no room for a lead-in at most half as fast as the stroke
    stroke = max(6, min(stroke, int((n - 6) / (1.0 + 2.0 * distance / span))))
    budget = n - stroke - 3                            # frames for the lead-in and the wait
    lead = int(np.clip(np.ceil(2.0 * distance * stroke / span), 4, max(4, budget - 3)))
    wait = min(int(rng.integers(3, 11)), max(0, budget - lead))
    s = lead + wait                                    # the stroke starts
    e = min(n, s + stroke)                             # and ends
    t = np.arange(n)
    w_lead = minimum_jerk(t / max(lead, 1))[:, None]
    u = minimum_jerk((t - s) / max(e - s, 1))[:, None]
    wrist = np.where(t[:, None] < s, start.wrist + (a - start.wrist) * w_lead, a + (b - a) * u)
    wrist[:, :2] += np.sin(np.pi * u) * rng.normal(0, 0.02) * along[::-1]   # a slight arc
    rotvec = np.where(t[:, None] < s, start.rotvec + (rot_a - start.rotvec) * w_lead, rot_a + (rot_b - rot_a) * u)
    roll = np.where(t < s, roll_a * w_lead[:, 0], roll_a + (roll_b - roll_a) * u[:, 0])
    shape = np.where(t[:, None] < lead, start.pose + (pose - start.pose) * w_lead, pose)
    return Motion(hand.clamp_pose(shape), rotvec, roll, wrist, np.ones(n, bool), s, min(n, e + 2))


READY_LABELS = ("swipe_left", "swipe_right", "swipe_up")  # a swipe_down waits fingers up: that is open_palm


def ready(rng: np.random.Generator, cam: Intrinsics, n: int, start, subject: hand.Subject) -> Motion:
    """no_gesture: a hand brought to where a swipe would start and held there, turned as for the
    stroke, with no stroke. It is also where the opposite swipe leaves the hand (a swipe_right ends
    where a swipe_left waits), so the models learn that the pose without the motion is no swipe."""
    swiped = swipe(str(rng.choice(READY_LABELS)), rng, cam, n, start, subject)
    s = swiped.start
    t = np.minimum(np.arange(n), s - 1)  # frozen in the wait from the stroke's start on
    sway = rng.normal(0, 0.002, (n, 3)).cumsum(axis=0) * 0.3
    return Motion(swiped.pose[t], swiped.rotvec[t], swiped.roll[t], swiped.wrist[t] + sway,
                  np.ones(n, bool), 0, n)
