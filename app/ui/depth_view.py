"""The depth image, colour-mapped (Turbo: near is warm, far is cool, no data is black).

The colour map is one look-up table over every uint16 depth value, built once per depth scale and
range, so a frame costs one gather; frames larger than the view are subsampled first.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, QSizeF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QLinearGradient, QPainter, QPixmap
from PyQt6.QtWidgets import QWidget

from app.ui import theme
from app.ui.video_view import FrameView

# Google's polynomial fit of the Turbo colour map (Mikhailov, 2019), t in [0, 1].
_TURBO = np.array([
    [0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
    [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
    [0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
])


def turbo(t: np.ndarray) -> np.ndarray:
    """(N,) values in [0, 1] -> (N, 3) uint8 RGB."""
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    powers = np.stack([t ** k for k in range(6)], axis=-1)  # (N, 6)
    return (np.clip(powers @ _TURBO.T, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)  # (N, 3)


def depth_lut(depth_scale: float, near_m: float, far_m: float) -> np.ndarray:
    """(65536, 3) uint8: the colour of every depth value; 0 (no data) is black."""
    metres = np.arange(65536, dtype=np.float64) * depth_scale
    lut = turbo(1.0 - (metres - near_m) / (far_m - near_m))  # near -> 1 (red), far -> 0 (blue)
    lut[0] = 0
    lut[metres > far_m * 1.5] = (24, 24, 32)  # far beyond the range: background, not blue noise
    return lut


class DepthView(FrameView):
    """Colour-mapped depth with a small legend."""

    placeholder = "No depth stream"

    def __init__(self, *, mirrored: bool = True, range_m: tuple[float, float] = (0.2, 2.0),
                 parent: QWidget | None = None) -> None:
        super().__init__(mirrored=mirrored, background=theme.PANEL, align_top=True, parent=parent)
        self._range = range_m
        self._lut_key: tuple[float, float, float] | None = None
        self._lut: np.ndarray | None = None
        self._legend: QPixmap | None = None
        self._legend_key: tuple | None = None
        self.setMinimumSize(120, 90)

    def set_depth(self, depth: np.ndarray | None, depth_scale: float) -> None:
        """(H, W) uint16 depth units (``depth_scale`` metres each); None clears the view."""
        if depth is None:
            self.set_array(None)
            return
        key = (depth_scale, *self._range)
        if key != self._lut_key:
            self._lut, self._lut_key = depth_lut(depth_scale, *self._range), key
        # Subsample frames wider than the view (device pixels): a quarter of the work at 2x.
        target = max(1, int(self.width() * self.devicePixelRatioF()))
        step = max(1, depth.shape[1] // target)
        sub = depth[::step, ::step] if step > 1 else depth  # (H/step, W/step)
        self.set_array(self._lut[sub])  # (h, w, 3) uint8, a fresh contiguous array

    def paint_overlay(self, painter: QPainter, rect: QRectF) -> None:
        font = theme.scaled_font(self.font(), 0.8)
        height = QFontMetricsF(font).height()
        width = min(rect.width() * 0.45, height * 9)
        dpr = self.devicePixelRatioF()
        key = (round(width), round(height), dpr, self._range)
        if self._legend_key != key:  # drawn once per size, then blitted
            self._legend, self._legend_key = self._draw_legend(font, width, height, dpr), key
        painter.drawPixmap(QPointF(rect.left() + height * 0.2, rect.bottom() - height * 2.5), self._legend)

    def _draw_legend(self, font: QFont, width: float, height: float, dpr: float) -> QPixmap:
        size = QSizeF(width + height * 0.8, height * 2.1)
        pixmap = QPixmap(int(size.width() * dpr) + 1, int(size.height() * dpr) + 1)
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(10, 12, 16, 185))
        painter.drawRoundedRect(QRectF(QPointF(0, 0), size), height * 0.3, height * 0.3)
        bar = QRectF(height * 0.4, height * 0.35, width, height * 0.45)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for stop in np.linspace(0.0, 1.0, 7):
            r, g, b = turbo(np.array([1.0 - stop]))[0]
            gradient.setColorAt(float(stop), QColor(int(r), int(g), int(b)))
        painter.setBrush(gradient)
        painter.drawRoundedRect(bar, bar.height() / 2, bar.height() / 2)
        painter.setPen(QColor(theme.TEXT))
        near, far = self._range
        baseline = bar.bottom() + height * 0.95
        painter.drawText(QPointF(bar.left(), baseline), f"{near:g} m")
        far_text = f"{far:g} m"
        painter.drawText(QPointF(bar.right() - painter.fontMetrics().horizontalAdvance(far_text), baseline), far_text)
        painter.end()
        return pixmap
