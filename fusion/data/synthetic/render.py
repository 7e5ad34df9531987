"""A fast RGB + depth rasteriser for the hand, its forearm and a scene around them.

The hand is drawn as tapered capsules (bones, palm, forearm) projected by the camera, each
rasterised inside its own bounding box with a z-buffer; shading is Lambert plus a soft specular
term. The scene (wall texture, clutter, the user's head and torso as a skin-coloured distractor,
lighting) is built once per clip by ``Scene.random``. Depth is RealSense-like: noise growing with
z^2, spatially correlated, quantised to the depth units, holes at edges, an occlusion shadow on
the left of foreground objects, nothing below the minimum range. Depth is aligned to colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fusion.data.synthetic import hand
from fusion.data.synthetic.camera import BASELINE, MAX_Z, MIN_Z, Intrinsics, depth_noise_std

DEPTH_SCALE = 0.001  # metres per depth unit (RealSense default)

# Capsules: (joint a, joint b, radius a, radius b) with radii as multiples of the finger radius.
_FINGERS = [(5 + 4 * f + k, 6 + 4 * f + k, f) for f in range(4) for k in range(3)]
_THUMB = [(1, 2, 1.45, 1.25), (2, 3, 1.25, 1.1), (3, 4, 1.1, 0.95)]
_PALM = [(0, 5, 1.9, 1.3), (0, 9, 2.1, 1.5), (0, 13, 2.1, 1.4), (0, 17, 1.8, 1.2), (5, 17, 1.35, 1.2),
         (9, 13, 1.5, 1.4), (0, 1, 1.9, 1.6), (1, 5, 1.5, 1.3)]
_TAPER = (1.0, 0.92, 0.85)


@dataclass
class Scene:
    """Everything static within a clip: background colour and depth, lighting, sensor settings."""

    rgb: np.ndarray         # (H, W, 3) float32 0..1, lit background
    depth: np.ndarray       # (H, W) float32 metres
    light: np.ndarray       # (3,) unit vector from the surface towards the light (camera frame)
    ambient: float
    gain: np.ndarray        # (3,) colour gain of lighting and white balance
    noise: np.ndarray       # (H + 16, W + 16, 3) float32 sensor-noise bank
    depth_wave: np.ndarray  # (H, W) float32 low-frequency depth-noise pattern (unit std)
    blur: float             # defocus sigma in pixels
    shutter: float          # exposure as a fraction of the frame time (motion blur)

    @classmethod
    def random(cls, rng: np.random.Generator, cam: Intrinsics, hand_z: float, skin: np.ndarray) -> "Scene":
        H, W = cam.height, cam.width
        gain = rng.uniform(0.65, 1.25) * rng.uniform(0.92, 1.08, 3)
        # Wall: colour gradient + low-frequency texture, slightly tilted plane behind everything.
        base = rng.uniform(0.15, 0.85, 3)
        tex = cv2.resize(rng.uniform(-1, 1, (4, 5, 3)).astype(np.float32), (W, H), interpolation=cv2.INTER_CUBIC)
        fine = cv2.resize(rng.uniform(-1, 1, (H // 4, W // 4, 3)).astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
        rgb = base[None, None] + 0.12 * tex + 0.04 * fine
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        wall = float(rng.uniform(1.6, 4.0))
        depth = wall + rng.uniform(-0.4, 0.4) * (xx / W - 0.5) + rng.uniform(-0.3, 0.3) * (yy / H - 0.5)
        depth = depth.astype(np.float32)
        # Clutter: shelves, posters, boxes at their own depths.
        for _ in range(int(rng.integers(2, 7))):
            x0, y0 = int(rng.integers(-W // 4, W)), int(rng.integers(-H // 4, H))
            w, h = int(rng.integers(W // 10, W // 2)), int(rng.integers(H // 10, H // 2))
            colour = rng.uniform(0, 1, 3)
            z = float(min(wall - 0.05, rng.uniform(1.0, wall)))
            if rng.random() < 0.5:
                cv2.rectangle(rgb, (x0, y0), (x0 + w, y0 + h), colour.tolist(), -1)
                cv2.rectangle(depth, (x0, y0), (x0 + w, y0 + h), z, -1)
            else:
                centre, axes = (x0 + w // 2, y0 + h // 2), (w // 2, h // 2)
                cv2.ellipse(rgb, centre, axes, 0, 0, 360, colour.tolist(), -1)
                cv2.ellipse(depth, centre, axes, 0, 0, 360, z, -1)
        # The user behind the hand: torso and head (a skin-coloured distractor).
        if rng.random() < 0.85:
            zb = float(min(wall - 0.1, hand_z + rng.uniform(0.3, 0.55)))
            cx = W * rng.uniform(0.3, 0.7)
            head_y = H * rng.uniform(-0.05, 0.3)
            f = cam.fx / zb
            shirt = rng.uniform(0.05, 0.9, 3)
            torso_c = (int(cx), int(head_y + 0.33 * f))
            torso_axes = (int(0.22 * f), int(0.3 * f))
            cv2.ellipse(rgb, torso_c, torso_axes, 0, 180, 360, shirt.tolist(), -1)
            cv2.rectangle(rgb, (torso_c[0] - torso_axes[0], torso_c[1]), (torso_c[0] + torso_axes[0], H), shirt.tolist(), -1)
            cv2.ellipse(depth, torso_c, torso_axes, 0, 180, 360, zb, -1)
            cv2.rectangle(depth, (torso_c[0] - torso_axes[0], torso_c[1]), (torso_c[0] + torso_axes[0], H), zb, -1)
            face = np.clip(skin * rng.uniform(0.85, 1.05), 0, 1)
            head_axes = (int(0.075 * f), int(0.1 * f))
            cv2.ellipse(rgb, (int(cx), int(head_y)), head_axes, 0, 0, 360, face.tolist(), -1)
            cv2.ellipse(rgb, (int(cx), int(head_y - 0.03 * f)), (head_axes[0] + 1, int(0.08 * f)), 0, 180, 360,
                        (rng.uniform(0.02, 0.4, 3)).tolist(), -1)
            cv2.ellipse(depth, (int(cx), int(head_y)), head_axes, 0, 0, 360, zb - 0.08, -1)
        light = np.array([rng.uniform(-0.8, 0.8), rng.uniform(-1.0, 0.2), -1.0])
        light /= np.linalg.norm(light)
        shade = 1.0 - 0.35 * ((xx / W - 0.5 - light[0] * 0.3) ** 2 + (yy / H - 0.5 - light[1] * 0.3) ** 2)
        rgb = np.clip(rgb, 0, 1) * shade[..., None] * gain[None, None]
        sigma = float(rng.uniform(1.5, 5.0)) / 255.0 / min(1.0, float(gain.mean()))
        wave = cv2.resize(rng.standard_normal((max(2, H // 12), max(2, W // 12))).astype(np.float32), (W, H),
                          interpolation=cv2.INTER_CUBIC)
        return cls(
            rgb=rgb.astype(np.float32), depth=depth, light=light, ambient=float(rng.uniform(0.3, 0.55)), gain=gain,
            noise=(rng.standard_normal((H + 16, W + 16, 3)) * sigma).astype(np.float32),
            depth_wave=wave / (wave.std() + 1e-6), blur=float(rng.uniform(0.3, 0.9)), shutter=float(rng.uniform(0.25, 0.6)),
        )


def capsules(subject: hand.Subject, joints: np.ndarray, forearm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Capsule endpoints ``(P, 2, 3)``, radii ``(P, 2)`` (metres) and colour ids ``(P,)`` (0 skin, 1 sleeve)."""
    r = subject.palm / 0.09
    fr = hand.FINGER_RADII * r
    ends, radii, ids = [], [], []
    for a, b, f in _FINGERS:
        k = (a - 5) % 4
        ra, rb = fr[f] * _TAPER[k], fr[f] * (_TAPER[k + 1] if k < 2 else 0.8)
        pb = joints[b]
        if k == 2:  # end the fingertip at the landmark, not a radius beyond it
            d = joints[b] - joints[a]
            pb = joints[a] + d * max(0.2, 1 - rb / (np.linalg.norm(d) + 1e-9))
        ends.append((joints[a], pb)); radii.append((ra, rb)); ids.append(0)
    for a, b, ra, rb in _THUMB + _PALM:
        ends.append((joints[a], joints[b])); radii.append((ra * fr[1], rb * fr[1])); ids.append(0)
    cut = joints[0] + (forearm - joints[0]) * (subject.sleeve_at / 0.26)
    ends.append((joints[0], cut)); radii.append((2.3 * fr[1], 2.6 * fr[1])); ids.append(0)
    ends.append((cut, forearm)); radii.append((3.3 * fr[1], 3.6 * fr[1])); ids.append(1)
    return np.array(ends), np.array(radii), np.array(ids)


def forearm_end(subject: hand.Subject, rotvec: np.ndarray, roll: float, wrist: np.ndarray) -> np.ndarray:
    """The elbow end of the forearm (3,), 26 cm from the wrist along the hand's -y, bent a little."""
    local = np.array([[np.sin(subject.arm_bend[0]), -np.cos(subject.arm_bend[0]), np.sin(subject.arm_bend[1]) + 0.25]])
    local = local / np.linalg.norm(local) * 0.26
    end = hand.to_camera(subject, local, rotvec, roll, wrist)[0]
    end[2] = max(end[2], wrist[2] + 0.05)  # the elbow is behind the wrist, towards the body
    return end


def rasterise(cam: Intrinsics, ends: np.ndarray, radii: np.ndarray, ids: np.ndarray):
    """Z-buffer of capsules: depth ``(H, W)`` (inf where empty), normals ``(H, W, 3)``, ids ``(H, W)`` (-1 empty)."""
    H, W = cam.height, cam.width
    zbuf = np.full((H, W), np.inf, np.float32)
    nx = np.zeros((H, W), np.float32)
    ny = np.zeros((H, W), np.float32)
    nz = np.zeros((H, W), np.float32)
    ibuf = np.full((H, W), -1, np.int8)
    xs = np.arange(W, dtype=np.float32)
    ys = np.arange(H, dtype=np.float32)
    z = np.maximum(ends[..., 2], 0.05)
    uv = cam.project(ends)                                    # (P, 2, 2)
    rpx = np.maximum(radii * cam.fx / z, 0.6)                 # (P, 2); thin fingers stay >= 1 px wide at low res
    lo = np.floor(np.minimum(uv[:, 0] - rpx[:, :1], uv[:, 1] - rpx[:, 1:])).astype(int)
    hi = np.ceil(np.maximum(uv[:, 0] + rpx[:, :1], uv[:, 1] + rpx[:, 1:])).astype(int) + 1
    for p in range(len(ends)):
        x0, y0 = max(lo[p, 0], 0), max(lo[p, 1], 0)
        x1, y1 = min(hi[p, 0], W), min(hi[p, 1], H)
        if x0 >= x1 or y0 >= y1 or ends[p, :, 2].max() < 0.05:
            continue
        (ax, ay), (bx, by) = uv[p]
        px = (xs[x0:x1] - ax)[None, :]
        py = (ys[y0:y1] - ay)[:, None]
        abx, aby = bx - ax, by - ay
        t = np.minimum(np.maximum((px * abx + py * aby) * (1.0 / (abx * abx + aby * aby + 1e-6)), 0.0), 1.0)
        dx, dy = px - t * abx, py - t * aby
        inv_r = 1.0 / (rpx[p, 0] + t * (rpx[p, 1] - rpx[p, 0]))
        dx, dy = dx * inv_r, dy * inv_r                      # offsets in units of the radius
        q = dx * dx + dy * dy
        inside = q < 1.0
        if not inside.any():
            continue
        h = np.sqrt(np.maximum(1.0 - q, 0.0))
        depth = z[p, 0] + t * (z[p, 1] - z[p, 0]) - h * (radii[p, 0] + t * (radii[p, 1] - radii[p, 0]))
        region = zbuf[y0:y1, x0:x1]
        win = inside & (depth < region)
        region[...] = np.where(win, depth, region)
        for buf, value in ((nx, dx), (ny, dy), (nz, -h)):
            b = buf[y0:y1, x0:x1]
            b[...] = np.where(win, value, b)
        ib = ibuf[y0:y1, x0:x1]
        ib[...] = np.where(win, ids[p], ib)
    return zbuf, np.stack([nx, ny, nz], axis=-1), ibuf


def _line_kernel(dx: float, dy: float) -> np.ndarray:
    n = int(min(11, max(2, np.hypot(dx, dy)))) | 1
    k = np.zeros((n, n), np.float32)
    c = n // 2
    s = np.hypot(dx, dy) + 1e-6
    cv2.line(k, (int(round(c - dx / s * c)), int(round(c - dy / s * c))), (int(round(c + dx / s * c)), int(round(c + dy / s * c))), 1.0, 1)
    return k / k.sum()


def render_frame(rng: np.random.Generator, cam: Intrinsics, scene: Scene, subject: hand.Subject,
                 ends: np.ndarray | None, radii: np.ndarray | None, ids: np.ndarray | None,
                 motion_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One frame: RGB ``(H, W, 3)`` uint8 and depth ``(H, W)`` uint16 in DEPTH_SCALE units.

    ``ends``/``radii``/``ids`` are the capsules (None: no hand); ``motion_px`` (2,) is the hand's
    image motion over this frame (pixels), for motion blur.
    """
    H, W = cam.height, cam.width
    rgb = scene.rgb.copy()
    depth = scene.depth.copy()
    mask = None
    if ends is not None:
        zbuf, nbuf, ibuf = rasterise(cam, ends, radii, ids)
        mask = ibuf >= 0
        if mask.any():
            albedo = np.stack([subject.skin, subject.sleeve]).astype(np.float32)[ibuf[mask]]
            n = nbuf[mask]
            diffuse = np.clip(n @ scene.light.astype(np.float32), 0.0, 1.0)
            half = scene.light + np.array([0.0, 0.0, -1.0])
            half /= np.linalg.norm(half)
            spec = 0.12 * np.clip(n @ half.astype(np.float32), 0.0, 1.0) ** 16
            shaded = albedo * (scene.ambient + (1 - scene.ambient) * diffuse)[:, None] + spec[:, None]
            rgb[mask] = shaded * scene.gain.astype(np.float32)
            depth[mask] = zbuf[mask]
            speed = float(np.hypot(*motion_px)) * scene.shutter
            if speed > 1.5:
                ys, xs = np.nonzero(mask)
                pad = 8
                y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, H)
                x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, W)
                k = _line_kernel(motion_px[0] * scene.shutter, motion_px[1] * scene.shutter)
                rgb[y0:y1, x0:x1] = cv2.filter2D(rgb[y0:y1, x0:x1], -1, k, borderType=cv2.BORDER_REPLICATE)
    rgb = cv2.GaussianBlur(rgb, (3, 3), scene.blur)
    oy, ox = rng.integers(0, 16, 2)
    rgb = rgb + scene.noise[oy:oy + H, ox:ox + W]
    rgb8 = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return rgb8, _depth_sensor(rng, cam, scene, depth, mask)


def _depth_sensor(rng: np.random.Generator, cam: Intrinsics, scene: Scene, z: np.ndarray, mask) -> np.ndarray:
    H, W = cam.height, cam.width
    std = depth_noise_std(z)
    white = rng.standard_normal((H, W), dtype=np.float32)
    chance = rng.random((3, H, W), dtype=np.float32)
    noisy = z + std * (0.8 * white + 0.6 * scene.depth_wave)
    units = np.rint(noisy / DEPTH_SCALE)
    invalid = (z < MIN_Z) | (z > MAX_Z) | (chance[0] < 0.003)
    # Edge holes where depth jumps (stereo matching fails on depth discontinuities).
    jump = cv2.morphologyEx(z, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0.06
    invalid |= jump & (chance[1] < 0.55)
    if mask is not None and mask.any():
        # Occlusion shadow: the left imager sees background the right one cannot, left of the hand.
        zh = float(z[mask].mean())
        zb = float(scene.depth.mean())
        w = int(round(cam.fx * BASELINE * max(0.0, 1 / zh - 1 / zb)))
        if w > 0:
            m8 = mask.astype(np.uint8)
            grown = cv2.dilate(m8, np.ones((1, w + 1), np.uint8), anchor=(0, 0))  # grows leftwards
            shadow = (grown > 0) & ~mask
            invalid |= shadow & (chance[2] < 0.85)
    units[invalid] = 0
    return np.clip(units, 0, 65535).astype(np.uint16)
