"""Rounded text labels ("pills"), drawn once and then blitted.

Antialiased rounded rectangles are among the most expensive things the raster engine paints; the
labels on the video and the timeline change rarely, so each is rendered once into a pixmap.
"""

from __future__ import annotations

from collections import OrderedDict

from PyQt6.QtCore import QRectF, QSizeF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPixmap

from app.ui import theme


class PillCache:
    """Pixmaps of pills by (text, colours, font, device pixel ratio); the least recently used go."""

    def __init__(self, *, size: int = 64) -> None:
        self._size = size
        self._pixmaps: OrderedDict[tuple, QPixmap] = OrderedDict()

    def get(self, text: str, *, font: QFont, border: QColor, fill: QColor, dpr: float,
            height_lines: float = 1.7, pad_lines: float = 0.55) -> QPixmap:
        """A pill around ``text``, ``height_lines`` of the font's lines high with ``pad_lines`` on
        each side; its logical size is ``pixmap.deviceIndependentSize()``."""
        key = (text, font.toString(), border.rgba(), fill.rgba(), round(dpr, 2), height_lines, pad_lines)
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        metrics = QFontMetricsF(font)
        size = QSizeF(metrics.horizontalAdvance(text) + metrics.height() * pad_lines * 2,
                      metrics.height() * height_lines)
        pixmap = QPixmap(int(size.width() * dpr + 1), int(size.height() * dpr + 1))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen_width = max(1.0, metrics.height() / 12)
        box = QRectF(pen_width / 2, pen_width / 2, size.width() - pen_width, size.height() - pen_width)
        painter.setPen(QPen(border, pen_width))
        painter.setBrush(fill)
        painter.drawRoundedRect(box, box.height() / 2, box.height() / 2)
        painter.setFont(font)
        painter.setPen(QColor(theme.TEXT))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.end()
        self._pixmaps[key] = pixmap
        if len(self._pixmaps) > self._size:
            self._pixmaps.popitem(last=False)
        return pixmap
