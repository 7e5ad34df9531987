"""A kinematic hand: 21 joints in MediaPipe's order, bone lengths and joint limits, subjects.

The hand is built in its own right-handed local frame, in metres, wrist at the origin:
``x`` towards the thumb side, ``y`` from the wrist towards the middle-finger MCP, ``z`` the palm
normal (fingers flex towards ``+z``). This is the chirality of a right hand; a left hand is its
mirror image (``subject.right`` is False, applied by ``to_camera``).

Proportions follow what MediaPipe's hand landmarker returns on real hands (medians measured by
``measure_real.py`` on the real footage), not textbook anatomy: MediaPipe's wrist point sits low
and its phalanges are short relative to the palm, and a skeleton model sees MediaPipe's version.

A pose is a vector of ``POSE_SIZE`` angles in degrees (see ``POSE_FIELDS``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Per finger (index, middle, ring, pinky): abduction (towards the thumb +), MCP, PIP, DIP flexion.
# Thumb: opposition (in the palm plane, from +y towards +x), elevation out of the palm (+z),
# MCP flexion, IP flexion.
POSE_FIELDS = tuple(
    f"{finger}_{joint}" for finger in ("index", "middle", "ring", "pinky") for joint in ("abd", "mcp", "pip", "dip")
) + ("thumb_opp", "thumb_elev", "thumb_mcp", "thumb_ip")
POSE_SIZE = len(POSE_FIELDS)

# Joint limits in degrees, per POSE_FIELDS entry.
LIMITS_LOW = np.array([-30, -15, 0, 0] * 4 + [-15, -15, -5, -15], dtype=np.float64)
LIMITS_HIGH = np.array([30, 90, 125, 70] * 4 + [75, 70, 60, 80], dtype=np.float64)

# Template (units of palm length = |wrist -> middle MCP|), medians of MediaPipe on real hands.
CMC = np.array([0.258, 0.237, 0.181])                     # thumb joint 1
MCPS = np.array([[0.215, 0.988, 0.081], [0.0, 1.0, 0.0], [-0.186, 0.976, 0.027], [-0.353, 0.818, 0.066]])
# Ring and little finger 8 % longer than measured on the real video (palm up, foreshortened): the real
# development set's open hands seen from the front need it (docs/synthetic.md, realism per class).
FINGER_BONES = np.array([[0.288, 0.207, 0.293], [0.344, 0.260, 0.273], [0.308, 0.253, 0.261], [0.246, 0.260, 0.191]])
THUMB_BONES = np.array([0.326, 0.380, 0.314])            # 1-2, 2-3, 3-4
FINGER_RADII = np.array([0.0088, 0.0092, 0.0086, 0.0075])  # metres at a palm length of 9 cm
SKIN_TONES = np.array([[236, 204, 178], [224, 180, 140], [198, 140, 100], [150, 100, 66], [96, 62, 44]], dtype=np.float64)
THUMB_BEND = np.array([-1.0, 0.0, 0.9]) / np.sqrt(1.81)    # the thumb flexes across the palm


@dataclass(frozen=True)
class Subject:
    """One person's hand and look."""

    palm: float             # palm length in metres (wrist -> middle MCP)
    bones: np.ndarray       # (4, 3) finger bone ratios
    thumb: np.ndarray       # (3,) thumb bone ratios
    mcps: np.ndarray        # (4, 3) MCP template
    right: bool             # a right hand (True) or a left one
    skin: np.ndarray        # (3,) RGB albedo 0..1
    sleeve: np.ndarray      # (3,) RGB albedo 0..1 of the sleeve
    sleeve_at: float        # metres from the wrist where the sleeve starts
    arm_bend: np.ndarray    # (2,) forearm direction jitter in the local x and z (radians)


def random_subject(rng: np.random.Generator, *, right: bool | None = None) -> Subject:
    """A random adult: size, proportions (±5 % per bone), skin tone, handedness (75 % right), sleeve."""
    tone = rng.uniform(0, len(SKIN_TONES) - 1)
    lo = int(tone)
    skin = SKIN_TONES[lo] + (SKIN_TONES[min(lo + 1, len(SKIN_TONES) - 1)] - SKIN_TONES[lo]) * (tone - lo)
    skin = np.clip(skin * rng.uniform(0.93, 1.07, 3), 0, 255) / 255.0
    return Subject(
        palm=float(rng.uniform(0.078, 0.102)),
        bones=FINGER_BONES * rng.uniform(0.92, 1.15) * rng.uniform(0.95, 1.05, FINGER_BONES.shape),
        thumb=THUMB_BONES * rng.uniform(0.95, 1.05, 3),
        mcps=MCPS + rng.normal(0, 0.012, MCPS.shape) * np.array([1, 1, 0.5]),
        right=bool(rng.random() < 0.75) if right is None else right,
        skin=skin,
        sleeve=rng.uniform(0.05, 0.9, 3) * rng.uniform(0.3, 1.0),
        sleeve_at=float(rng.uniform(0.05, 0.2)),
        arm_bend=rng.normal(0, 0.12, 2),
    )


def average_subject(*, right: bool = True) -> Subject:
    """The template hand at the median size: for placing poses where no particular person is drawn."""
    return Subject(palm=0.09, bones=FINGER_BONES.copy(), thumb=THUMB_BONES.copy(), mcps=MCPS.copy(), right=right,
                   skin=SKIN_TONES[1] / 255.0, sleeve=np.full(3, 0.4), sleeve_at=0.1, arm_bend=np.zeros(2))


def clamp_pose(pose: np.ndarray) -> np.ndarray:
    """The pose clipped to the joint limits."""
    return np.clip(pose, LIMITS_LOW, LIMITS_HIGH)


def _rotate(v: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rodrigues rotation of vectors ``(..., 3)`` about axes ``(..., 3)`` by angles ``(...)``."""
    axis = axis / (np.linalg.norm(axis, axis=-1, keepdims=True) + 1e-12)
    c, s = np.cos(angle)[..., None], np.sin(angle)[..., None]
    return v * c + np.cross(axis, v) * s + axis * (axis * v).sum(-1, keepdims=True) * (1 - c)


def joints_local(subject: Subject, pose: np.ndarray) -> np.ndarray:
    """The 21 joints in metres in the right-hand local frame (wrist at 0): pose ``(20,)`` -> ``(21, 3)``,
    or poses ``(T, 20)`` -> ``(T, 21, 3)``."""
    p = np.radians(clamp_pose(np.asarray(pose, dtype=np.float64)))
    single = p.ndim == 1
    p = np.atleast_2d(p)                                          # (T, 20)
    T = len(p)
    out = np.zeros((T, 21, 3))
    L = subject.palm
    fingers = p[:, :16].reshape(T, 4, 4)                          # (T, finger, [abd, mcp, pip, dip])
    abd = fingers[..., 0]
    theta = np.cumsum(fingers[..., 1:], axis=-1)                  # (T, 4, 3) cumulative flexion
    d = np.stack([np.sin(abd)[..., None] * np.cos(theta), np.cos(abd)[..., None] * np.cos(theta), np.sin(theta)], axis=-1)
    steps = d * (subject.bones * L)[None, :, :, None]             # (T, 4, 3 bones, 3)
    chain = subject.mcps[None, :, None, :] * L + np.cumsum(steps, axis=2)
    out[:, 5::4] = subject.mcps * L
    for k in range(3):
        out[:, 6 + k::4][:, :4] = chain[:, :, k]
    opp, elev, t_mcp, t_ip = p[:, 16], p[:, 17], p[:, 18], p[:, 19]
    out[:, 1] = CMC * L
    d = np.stack([np.sin(opp) * np.cos(elev), np.cos(opp) * np.cos(elev), np.sin(elev)], axis=-1)   # (T, 3)
    axis = np.cross(d, THUMB_BEND)
    base = out[:, 1]
    for k, flex in enumerate((np.zeros(T), t_mcp, t_ip)):
        d = _rotate(d, axis, flex)
        base = base + d * subject.thumb[k] * L
        out[:, 2 + k] = base
    return out[0] if single else out


def rotation(rotvec: np.ndarray) -> np.ndarray:
    """Rodrigues: the 3x3 rotation of a rotation vector (radians)."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.eye(3)
    k = rotvec / angle
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def rotations(rotvecs: np.ndarray) -> np.ndarray:
    """Rodrigues for many rotation vectors: ``(T, 3)`` -> ``(T, 3, 3)``."""
    rotvecs = np.asarray(rotvecs, dtype=np.float64)
    angle = np.linalg.norm(rotvecs, axis=-1)                         # (T,)
    k = rotvecs / np.maximum(angle, 1e-12)[:, None]
    K = np.zeros((len(k), 3, 3))
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 0] = -k[:, 2], k[:, 1], k[:, 2]
    K[:, 1, 2], K[:, 2, 0], K[:, 2, 1] = -k[:, 0], -k[:, 1], k[:, 0]
    s, c = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
    return np.eye(3)[None] + s * K + (1 - c) * K @ K


def rotvec_of(R: np.ndarray) -> np.ndarray:
    """The rotation vector of a 3x3 rotation (inverse of ``rotation``)."""
    cos = np.clip((np.trace(R) - 1) / 2, -1.0, 1.0)
    angle = np.arccos(cos)
    if angle < 1e-9:
        return np.zeros(3)
    if np.pi - angle < 1e-6:  # 180 degrees: axis from the symmetric part
        axis = np.sqrt(np.maximum((np.diag(R) + 1) / 2, 0))
        i = int(np.argmax(axis))
        axis = R[:, i] + np.eye(3)[i]
        return axis / np.linalg.norm(axis) * angle
    axis = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]]) / (2 * np.sin(angle))
    return axis * angle


# Palm facing the camera, fingers up: local x -> camera +X, y -> -Y, z -> -Z (camera: X right, Y down, Z forward).
R_FACING = np.diag([1.0, -1.0, -1.0])


def to_camera(subject: Subject, local: np.ndarray, rotvec: np.ndarray, roll: float, wrist: np.ndarray) -> np.ndarray:
    """Local joints (N, 3) -> camera frame (N, 3) in metres.

    ``rotvec`` orients the right-hand pose (applied to ``R_FACING``); a left hand is mirrored in the
    camera's X; ``roll`` (radians, clockwise in the raw image) is applied after the mirror, so that
    gestures that rotate keep their direction for either hand.
    """
    R = rotation(rotvec) @ R_FACING
    pts = local @ R.T
    if not subject.right:
        pts = pts * np.array([-1.0, 1.0, 1.0])
    if roll:
        c, s = np.cos(roll), np.sin(roll)
        pts = pts @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]).T
    return pts + wrist


def to_camera_batch(subject: Subject, local: np.ndarray, rotvec: np.ndarray, roll: np.ndarray,
                    wrist: np.ndarray) -> np.ndarray:
    """``to_camera`` for T frames at once: local ``(T, N, 3)``, rotvec ``(T, 3)``, roll ``(T,)``,
    wrist ``(T, 3)`` -> ``(T, N, 3)``."""
    R = rotations(rotvec) @ R_FACING                                  # (T, 3, 3)
    pts = np.einsum("tij,tnj->tni", R, local)
    if not subject.right:
        pts = pts * np.array([-1.0, 1.0, 1.0])
    c, s = np.cos(roll)[:, None], np.sin(roll)[:, None]
    x, y = pts[..., 0] * c - pts[..., 1] * s, pts[..., 0] * s + pts[..., 1] * c
    return np.stack([x, y, pts[..., 2]], axis=-1) + wrist[:, None, :]


def chirality(points: np.ndarray) -> np.ndarray:
    """+1 where the skeleton ``(..., 21, 3)`` has a right hand's chirality in a right-handed
    frame (x right, y down, z forward, as MediaPipe's world landmarks), -1 for a left hand."""
    y = points[..., 9, :] - points[..., 0, :]
    x = points[..., 5, :] - points[..., 17, :]          # pinky -> index: towards the thumb
    flex = points[..., [8, 12, 16, 20], :].mean(-2) - points[..., [5, 9, 13, 17], :].mean(-2)
    palm = np.cross(x, y)                               # +z of the local frame for a right hand
    # The palm normal is the side the thumb's base and the curled fingers lean to.
    lean = points[..., 1, :] - (points[..., 0, :] + points[..., 5, :]) / 2 + 0.3 * flex
    return np.sign((palm * lean).sum(-1))
