"""The strengths of the training-time augmentations (``fusion.augment``), apart from its torch code
so that the command line reads the training configuration without importing torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AugmentConfig:
    """Strengths of the augmentations (0 turns one off)."""

    shift: float = 0.08           # max translation, fraction of width/height
    skeleton_shift: float = 0.5   # the same for a skeleton without images (no pixels to keep in view)
    brightness: float = 0.25      # rgb: ± added, in normalised units
    contrast: float = 0.25        # rgb: × (1 ± contrast)
    channel_gain: float = 0.1     # rgb: per-channel × (1 ± gain)
    depth_offset: float = 0.05    # depth: ± added to the [0, 1] values where not background
    joint_jitter: float = 0.02    # skeleton: Gaussian noise on the shape channels (hand-size units)
    roll_deg: float = 15.0        # skeleton: the hand turned in the image plane by up to ± this
    hand_scale: float = 0.4       # skeleton beside images: its size channel × (1 ± this): nearer or farther
    skeleton_scale: float = 3.0   # a skeleton without images: × or ÷ up to this (log-uniform; 1 turns it off)
    z_scale: float = 0.4          # skeleton: its z × (1 ± this): MediaPipe's z is only roughly scaled
    z_dropout: float = 0.3        # skeleton: chance a clip's z is 0 throughout (landmarks without z)
