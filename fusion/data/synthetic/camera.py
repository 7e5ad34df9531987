"""A RealSense-like pinhole camera: intrinsics scaled to the render size, projection."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# D435 colour stream at 640x480: fx = fy ~ 615 px, principal point at the centre.
FOCAL_PER_WIDTH = 615.0 / 640.0
# Depth sensor: D435 stereo baseline (m), subpixel RMS (px), depth focal length at 848x480 (px).
BASELINE = 0.050
SUBPIXEL = 0.08
DEPTH_FOCAL = 425.0
MIN_Z = 0.28     # D435 minimum range at 848x480 (m)
MAX_Z = 6.0


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels of the rendered frame (camera: X right, Y down, Z forward)."""

    width: int
    height: int
    fx: float
    fy: float
    ppx: float
    ppy: float

    @classmethod
    def realsense(cls, width: int, height: int) -> "Intrinsics":
        """D435-like colour intrinsics for a ``width`` x ``height`` frame (depth aligned to colour)."""
        f = FOCAL_PER_WIDTH * width
        return cls(width=width, height=height, fx=f, fy=f, ppx=(width - 1) / 2, ppy=(height - 1) / 2)

    def project(self, points: np.ndarray) -> np.ndarray:
        """Camera points ``(..., 3)`` in metres -> pixels ``(..., 2)`` (u right, v down)."""
        z = np.maximum(points[..., 2], 1e-6)
        return np.stack([self.fx * points[..., 0] / z + self.ppx, self.fy * points[..., 1] / z + self.ppy], axis=-1)

    def unproject(self, u: float, v: float, z: float) -> np.ndarray:
        """Pixel (u, v) at depth z (m) -> camera point (3,)."""
        return np.array([(u - self.ppx) * z / self.fx, (v - self.ppy) * z / self.fy, z])

    def as_tuple(self) -> tuple[float, float, float, float]:
        """(fx, fy, ppx, ppy)."""
        return (self.fx, self.fy, self.ppx, self.ppy)


def depth_noise_std(z: np.ndarray) -> np.ndarray:
    """RealSense D4xx RMS depth error (m) at range z (m): z^2 * subpixel / (focal * baseline)."""
    return z * z * SUBPIXEL / (DEPTH_FOCAL * BASELINE)
