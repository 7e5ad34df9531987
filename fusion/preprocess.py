"""One captured frame → model input, done once per frame when it arrives.

Frames arrive in the camera's own (unmirrored) view. The model sees the MIRRORED view, the user's
selfie view, because gesture directions are defined as the user sees themselves in the mirrored
preview (``swipe_left`` moves towards the left edge of the mirrored image). So every function here
flips x: images are flipped left↔right, skeleton x becomes 1 − x and handedness Left↔Right.

Skeleton channels (``SKELETON_CHANNELS``, C = 8), for each joint j of a hand with wrist w::

    0,1,2  (p_j − p_w) / s        shape: wrist-relative x, y, z divided by the hand size s
    3,4    x_j − 0.5, y_j − 0.5   where the hand is: absolute image position (global motion, swipes)
    5      s                      hand size in image-width units (grows when the hand comes closer)
    6      handedness             +1 the user's right hand, −1 left, 0 unknown (always 0 when the
                                  spec's ``handedness`` is off: MediaPipe flips it on fast hands, and
                                  no gesture of the vocabulary depends on which hand makes it)
    7      presence               1 when a hand was seen

x is measured in image-width units and y in image-height units, then y is rescaled by the frame's
height/width so that shape coordinates are isotropic. s is the wrist → middle-finger MCP distance for
MediaPipe's 21 joints, the bounding-box diagonal for any other joint set. A missing hand is all zeros
(presence 0): the documented "no hand" value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from fusion.field_checks import check_bool, check_int, check_real

SKELETON_CHANNELS = ("dx", "dy", "dz", "x", "y", "scale", "handedness", "presence")

# MediaPipe hand joints: 0 wrist, 9 middle-finger MCP.
WRIST, MIDDLE_MCP = 0, 9
# Bounds of an InputSpec (ModelConfig also bounds the memory a model of these sizes would take).
MAX_SIDE, MAX_WINDOW, MAX_JOINTS = 4096, 1024, 512


@dataclass(frozen=True)
class InputSpec:
    """Sizes and normalisation of the model input; stored in every checkpoint."""

    width: int = 128  # model frame width (pixels)
    height: int = 96  # model frame height (pixels)
    fps: float = 30.0  # frame rate the model was trained for
    window: int = 32  # T: frames per window
    joints: int = 21  # J: skeleton joints (MediaPipe hand)
    rgb_mean: tuple[float, float, float] = (0.45, 0.45, 0.45)  # per channel, after /255
    rgb_std: tuple[float, float, float] = (0.25, 0.25, 0.25)
    depth_near_m: float = 0.2  # depth clipped to [near, far] metres, then mapped near → 1, far → 0
    depth_far_m: float = 1.5
    mirror: bool = True  # flip x so that the model sees the user's selfie view
    # feed MediaPipe's handedness (channel 6); False: always 0. Specs stored without this field
    # (checkpoints made before it existed) read as True, the way those models were trained.
    handedness: bool = False

    @property
    def skeleton_channels(self) -> int:
        return len(SKELETON_CHANNELS)

    def __post_init__(self) -> None:
        """ValueError for a value no model could use (a checkpoint's metadata is untrusted)."""
        for name in ("width", "height"):
            check_int(name, getattr(self, name), 8, MAX_SIDE)
        check_real("fps", self.fps, 1.0, 1000.0)
        check_int("window", self.window, 1, MAX_WINDOW)
        check_int("joints", self.joints, 1, MAX_JOINTS)
        for name in ("rgb_mean", "rgb_std"):
            values = getattr(self, name)
            if not isinstance(values, tuple) or len(values) != 3:
                raise ValueError(f"{name} must be 3 numbers (R, G, B), got {values!r:.60}")
            for value in values:
                if name == "rgb_mean":
                    check_real("each of rgb_mean", value, -100.0, 100.0)
                else:
                    check_real("each of rgb_std", value, 1e-4, 100.0)
        check_real("depth_near_m", self.depth_near_m, 0.0, 1000.0)
        check_real("depth_far_m", self.depth_far_m, self.depth_near_m, 1000.0, above_lo=True)
        check_bool("mirror", self.mirror)
        check_bool("handedness", self.handedness)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "InputSpec":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown input spec fields {sorted(unknown)}")
        kwargs = {"handedness": True, **data}
        for key in ("rgb_mean", "rgb_std"):
            if key in kwargs:
                kwargs[key] = tuple(float(v) for v in kwargs[key])
        return cls(**kwargs)


DEFAULT_SPEC = InputSpec()


def _resize(image: np.ndarray, width: int, height: int, nearest: bool) -> np.ndarray:
    if image.shape[1] == width and image.shape[0] == height:
        return image
    import cv2

    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
    return cv2.resize(image, (width, height), interpolation=interp)


def preprocess_color(rgb: np.ndarray, spec: InputSpec = DEFAULT_SPEC) -> np.ndarray:
    """An RGB uint8 frame (H, W, 3) → (3, h, w) float32, resized, mirrored, normalised."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"color frame must be (H, W, 3), got {rgb.shape}")
    small = _resize(rgb, spec.width, spec.height, nearest=False)  # (h, w, 3)
    if spec.mirror:
        small = small[:, ::-1]
    out = small.astype(np.float32).transpose(2, 0, 1)  # (3, h, w)
    mean = np.asarray(spec.rgb_mean, np.float32).reshape(3, 1, 1) * 255.0
    std = np.asarray(spec.rgb_std, np.float32).reshape(3, 1, 1) * 255.0
    return np.ascontiguousarray((out - mean) / std)


def preprocess_depth(depth: np.ndarray, depth_scale_m: float, spec: InputSpec = DEFAULT_SPEC) -> np.ndarray:
    """A uint16 depth frame (H, W) in device units → (1, h, w) float32.

    Metres = units · depth_scale_m, clipped to [near, far] and mapped linearly near → 1, far → 0;
    invalid pixels (0) read as far (0).
    """
    if depth.ndim != 2:
        raise ValueError(f"depth frame must be (H, W), got {depth.shape}")
    small = _resize(depth, spec.width, spec.height, nearest=True)  # (h, w)
    if spec.mirror:
        small = small[:, ::-1]
    metres = small.astype(np.float32) * np.float32(depth_scale_m)
    metres[small == 0] = spec.depth_far_m
    near, far = spec.depth_near_m, spec.depth_far_m
    out = (far - np.clip(metres, near, far)) / (far - near)
    return np.ascontiguousarray(out[None].astype(np.float32))  # (1, h, w)


def preprocess_skeleton(
    image_xyz: np.ndarray | None,
    handedness: str | None = None,
    spec: InputSpec = DEFAULT_SPEC,
    *,
    aspect: float | None = None,
) -> np.ndarray:
    """Hand joints in normalised image coordinates (J, 3) or None → (C, J) float32 (module docstring).

    ``handedness`` is the label ("Left"/"Right") reported for the unmirrored camera image; it is
    swapped with the image. ``aspect`` is the captured frame's width/height (default the spec's).
    """
    channels = len(SKELETON_CHANNELS)
    if image_xyz is None:
        return np.zeros((channels, spec.joints), np.float32)
    xyz = np.asarray(image_xyz, dtype=np.float32)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or xyz.shape[0] != spec.joints:
        raise ValueError(f"skeleton must be ({spec.joints}, 3), got {xyz.shape}")
    xyz = xyz.copy()
    if spec.mirror:
        xyz[:, 0] = 1.0 - xyz[:, 0]
    ratio = 1.0 / (aspect if aspect is not None else spec.width / spec.height)  # height / width
    iso = xyz.copy()
    iso[:, 1] *= ratio  # y in image-width units
    if spec.joints == 21:
        scale = float(np.linalg.norm(iso[MIDDLE_MCP, :2] - iso[WRIST, :2]))
        origin = iso[WRIST]
    else:
        scale = float(np.linalg.norm(iso[:, :2].max(0) - iso[:, :2].min(0)))
        origin = iso[WRIST]
    scale = max(scale, 1e-3)
    out = np.empty((channels, spec.joints), np.float32)
    out[0:3] = ((iso - origin) / scale).T  # (3, J)
    out[3] = xyz[:, 0] - 0.5
    out[4] = xyz[:, 1] - 0.5
    out[5] = scale
    hand = _handedness_value(handedness, spec.mirror)  # checked even when it is not fed
    out[6] = hand if spec.handedness else 0.0
    out[7] = 1.0
    return out


def _handedness_value(handedness: str | None, mirror: bool) -> float:
    if handedness is None:
        return 0.0
    label = handedness.strip().lower()
    if label not in ("left", "right"):
        raise ValueError(f"handedness must be 'Left', 'Right' or None, got {handedness!r}")
    right = label == "right"
    if mirror:
        right = not right
    return 1.0 if right else -1.0
