"""Shape statistics of a 21-point hand skeleton: bone ratios, joint angles, fingertip spreads.

Used to compare generated skeletons with what MediaPipe returns on real hands
(``measure_real.py`` writes the reference, ``real_reference.json``) and by the pose-distance
check of static gestures. Inputs are ``(..., 21, 3)`` points in MediaPipe's order.
"""

from __future__ import annotations

import numpy as np

# MediaPipe hand topology: (parent, child) for the 20 bones.
BONES = (
    (0, 1), (1, 2), (2, 3), (3, 4),          # thumb: CMC, MCP, IP, tip
    (0, 5), (5, 6), (6, 7), (7, 8),          # index
    (0, 9), (9, 10), (10, 11), (11, 12),     # middle
    (0, 13), (13, 14), (14, 15), (15, 16),   # ring
    (0, 17), (17, 18), (18, 19), (19, 20),   # pinky
)
FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
TIPS = (4, 8, 12, 16, 20)
# Joints whose flexion is measured: (a, b, c) -> angle between bones a->b and b->c.
ANGLE_JOINTS = (
    (1, 2, 3), (2, 3, 4),                          # thumb MCP, IP
    (0, 5, 6), (5, 6, 7), (6, 7, 8),               # index MCP, PIP, DIP
    (0, 9, 10), (9, 10, 11), (10, 11, 12),         # middle
    (0, 13, 14), (13, 14, 15), (14, 15, 16),       # ring
    (0, 17, 18), (17, 18, 19), (18, 19, 20),       # pinky
)
ANGLE_NAMES = (
    "thumb_mcp", "thumb_ip", "index_mcp", "index_pip", "index_dip", "middle_mcp", "middle_pip",
    "middle_dip", "ring_mcp", "ring_pip", "ring_dip", "pinky_mcp", "pinky_pip", "pinky_dip",
)
BONE_NAMES = tuple(f"{a}-{b}" for a, b in BONES)
SPREAD_NAMES = ("thumb-index", "index-middle", "middle-ring", "ring-pinky")


def palm_length(points: np.ndarray) -> np.ndarray:
    """Wrist to middle-finger MCP distance, ``(...)``."""
    return np.linalg.norm(points[..., 9, :] - points[..., 0, :], axis=-1)


def bone_ratios(points: np.ndarray) -> np.ndarray:
    """Each bone's length over the palm length, ``(..., 20)``."""
    a = points[..., [b[0] for b in BONES], :]
    b = points[..., [b[1] for b in BONES], :]
    return np.linalg.norm(b - a, axis=-1) / palm_length(points)[..., None]


def joint_angles(points: np.ndarray) -> np.ndarray:
    """Flexion in degrees (0 = straight) at the 14 joints of ANGLE_JOINTS, ``(..., 14)``."""
    idx = np.array(ANGLE_JOINTS)
    u = points[..., idx[:, 1], :] - points[..., idx[:, 0], :]
    v = points[..., idx[:, 2], :] - points[..., idx[:, 1], :]
    cos = (u * v).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1) + 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def tip_spreads(points: np.ndarray) -> np.ndarray:
    """Distance between adjacent fingertips over the palm length, ``(..., 4)``."""
    tips = points[..., list(TIPS), :]
    d = np.linalg.norm(tips[..., 1:, :] - tips[..., :-1, :], axis=-1)
    return d / palm_length(points)[..., None]


def normalised_pose(points: np.ndarray) -> np.ndarray:
    """Translation- and scale-free 2D pose for comparing hand shapes, ``(..., 21, 2)``.

    Takes image landmarks ``(..., 21, 3)`` in pixels (x right, y down; only x, y used), centres
    them on the wrist and divides by the palm's image length. Orientation is kept: a thumbs-up
    and a thumbs-down differ only by it.
    """
    p = points[..., :2] - points[..., :1, :2]
    length = np.linalg.norm(p[..., 9, :], axis=-1)[..., None, None] + 1e-9
    return p / length


def pose_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean distance between normalised poses; mirror-invariant (left and right hands compare)."""
    na, nb = normalised_pose(a), normalised_pose(b)
    mirrored = nb * np.array([-1.0, 1.0])
    d1 = np.linalg.norm(na - nb, axis=-1).mean(-1)
    d2 = np.linalg.norm(na - mirrored, axis=-1).mean(-1)
    return np.minimum(d1, d2)
