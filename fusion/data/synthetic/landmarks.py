"""MediaPipe-style hand landmarks from the true 3D joints, with jitter and missed frames.

Conventions of MediaPipe's HandLandmarker (Tasks API):
- image landmarks ``(21, 3)``: x, y normalised to [0, 1] by the image width and height (x right,
  y down); z is depth relative to the wrist, negative towards the camera, in roughly the scale
  of x (here: ``(Z - Z_wrist) * fx / (Z_wrist * width)``);
- world landmarks ``(21, 3)``: metres, camera axes, origin at the hand's geometric centre;
- handedness: MediaPipe's label for the image as given. Measured on the real footage here,
  MediaPipe calls a hand with a right hand's chirality in the image "Right"; frames are
  unmirrored, so a user's right hand is reported "Right";
- presence: False where MediaPipe would find no hand (out of view, too small, a missed
  detection, strong motion blur); absent frames hold zeros.
"""

from __future__ import annotations

import numpy as np

from fusion.data.synthetic.camera import Intrinsics


BLUR_FROM, BLUR_SPAN = 0.03, 0.06  # lost with chance (speed - FROM) / SPAN (speed: image widths per frame)


def handedness(right: bool) -> str:
    """MediaPipe's handedness label for a hand shown unmirrored."""
    return "Right" if right else "Left"


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], rho: float = 0.6) -> np.ndarray:
    """Temporally correlated unit noise along axis 0."""
    white = rng.standard_normal(shape)
    out = np.empty(shape)
    out[0] = white[0]
    scale = np.sqrt(1 - rho * rho)
    for t in range(1, shape[0]):
        out[t] = rho * out[t - 1] + scale * white[t]
    return out


def landmarks(rng: np.random.Generator, cam: Intrinsics, joints: np.ndarray, drawn: np.ndarray,
              miss_rate: float = 0.02) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image landmarks ``(T, 21, 3)``, world landmarks ``(T, 21, 3)`` (float32), presence ``(T,)``.

    ``joints`` are the true camera-frame joints ``(T, 21, 3)`` in metres; ``drawn`` (T,) says
    whether a hand is in the scene.
    """
    T = len(joints)
    uv = cam.project(joints)                                        # (T, 21, 2) pixels
    zw = np.maximum(joints[:, :1, 2], 1e-3)                         # (T, 1)
    image = np.empty((T, 21, 3))
    image[..., 0] = (uv[..., 0] + 0.5) / cam.width
    image[..., 1] = (uv[..., 1] + 0.5) / cam.height
    image[..., 2] = (joints[..., 2] - zw) * cam.fx / (zw * cam.width)
    world = joints - joints.mean(axis=1, keepdims=True)
    # Jitter: ~1 % of the palm's image length in x, y; more in z; 1 mm in world.
    palm_px = np.linalg.norm(uv[:, 9] - uv[:, 0], axis=-1)          # (T,)
    scale = (0.012 * palm_px / cam.width)[:, None, None]
    image[..., :2] += _ar1(rng, (T, 21, 2)) * scale
    image[..., 2:] += _ar1(rng, (T, 21, 1)) * scale * 1.5
    world += _ar1(rng, (T, 21, 3)) * 0.001
    # Presence: in view, big enough, not blurred away, not a random miss (misses come in bursts).
    inside = ((image[..., 0] > 0) & (image[..., 0] < 1) & (image[..., 1] > 0) & (image[..., 1] < 1)).mean(1)
    # Motion blur: measured on real 15 fps swipes, MediaPipe loses a hand crossing 4-6 % of the
    # frame width per 30 fps frame about half the time, in runs of frames.
    speed = np.r_[0.0, np.linalg.norm(np.diff(uv[:, [0, 12]], axis=0), axis=-1).max(axis=-1)] / cam.width
    blurred = rng.random(T) < np.clip((speed - BLUR_FROM) / BLUR_SPAN, 0.0, 0.85)
    present = drawn & (inside >= 0.6) & (palm_px >= 0.035 * cam.width) & (joints[:, 0, 2] > 0.2) & ~blurred
    t = 0
    while t < T:
        if rng.random() < miss_rate:
            present[t:t + int(rng.integers(1, 4))] = False
            t += 3
        t += 1
    image[~present] = 0.0
    world[~present] = 0.0
    return image.astype(np.float32), world.astype(np.float32), present
