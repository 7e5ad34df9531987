"""A hand performance: per-frame pose, orientation, roll and wrist position, and where its label holds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Motion:
    """Per-frame hand state for ``n`` frames and the frames ``[start, end)`` where the label holds."""

    pose: np.ndarray      # (n, 20) degrees
    rotvec: np.ndarray    # (n, 3) radians
    roll: np.ndarray      # (n,) radians, clockwise in the raw image
    wrist: np.ndarray     # (n, 3) metres, camera frame
    drawn: np.ndarray     # (n,) bool: a hand is in the scene
    start: int
    end: int

    def __len__(self) -> int:
        return len(self.roll)


def minimum_jerk(u: np.ndarray) -> np.ndarray:
    """Human point-to-point profile 10u^3 - 15u^4 + 6u^5 on [0, 1]."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10 - 15 * u + 6 * u * u)
