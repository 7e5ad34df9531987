"""The strengths of the training-time augmentations (``fusion.augment``), apart from its torch code
so that the command line reads the training configuration without importing torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AugmentConfig:
    """Strengths of the augmentations (0 turns one off)."""

    shift: float = 0.08           # max translation, fraction of width/height
    brightness: float = 0.25      # rgb: ± added, in normalised units
    contrast: float = 0.25        # rgb: × (1 ± contrast)
    channel_gain: float = 0.1     # rgb: per-channel × (1 ± gain)
    depth_offset: float = 0.05    # depth: ± added to the [0, 1] values where not background
    joint_jitter: float = 0.02    # skeleton: Gaussian noise on the shape channels (hand-size units)
