"""Recent gesture events on a time axis that ends at "now" (the newest snapshot's time)."""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PyQt6.QtWidgets import QSizePolicy, QWidget

from app.snapshot import EventMark
from app.ui import theme
from app.ui.pill import PillCache

_TICK_STEPS = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0)


def tick_step(seconds: float, max_ticks: int = 10) -> float:
    """The smallest round step that puts at most ``max_ticks`` ticks on ``seconds``."""
    for step in _TICK_STEPS:
        if seconds / step <= max_ticks:
            return step
    return _TICK_STEPS[-1]


class Timeline(QWidget):
    """The last ``seconds`` of events: a dot on the axis and a label above each."""

    def __init__(self, *, seconds: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._seconds = seconds
        self._events: tuple[EventMark, ...] = ()
        self._now = 0.0
        self._pills = PillCache()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_events(self, events: tuple[EventMark, ...], now: float, *, repaint: bool = True) -> None:
        """The events and the current time; ``repaint=False`` leaves the ``update()`` to the caller."""
        self._events, self._now = events, now
        if repaint:
            self.update()

    def visible_events(self) -> list[EventMark]:
        """The events inside the window (now - seconds, now], oldest first."""
        start = self._now - self._seconds
        return [e for e in self._events if start < e.t <= self._now + 1e-9]

    def sizeHint(self) -> QSize:
        return QSize(400, int(self.fontMetrics().height() * 5.4))

    def minimumSizeHint(self) -> QSize:
        return QSize(200, int(self.fontMetrics().height() * 5.4))

    def x_of(self, t: float) -> float:
        """Widget x of time ``t`` (seconds since the stream's first frame)."""
        left, right = self._axis_span()
        return right - (self._now - t) / self._seconds * (right - left)

    def _axis_span(self) -> tuple[float, float]:
        margin = self.fontMetrics().horizontalAdvance("-00 s") * 0.6
        return margin, self.width() - margin

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.PANEL))  # opaque: the card behind is not repainted
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = self.fontMetrics()
        line_h = metrics.height()
        axis_y = self.height() - line_h * 1.5
        left, right = self._axis_span()
        painter.setPen(QPen(QColor(theme.BORDER), max(1.0, line_h / 14)))
        painter.drawLine(QPointF(left, axis_y), QPointF(right, axis_y))
        # ticks: at whole multiples of the step before now, labelled relative to now
        step = tick_step(self._seconds)
        painter.setFont(theme.scaled_font(self.font(), 0.85))
        small = painter.fontMetrics()
        k = 0
        while k * step <= self._seconds + 1e-9:
            x = right - k * step / self._seconds * (right - left)
            painter.setPen(QPen(QColor(theme.BORDER), 1.0))
            painter.drawLine(QPointF(x, axis_y - line_h * 0.2), QPointF(x, axis_y + line_h * 0.2))
            text = "now" if k == 0 else f"-{k * step:g} s"
            painter.setPen(QColor(theme.TEXT_MUTED))
            width = small.horizontalAdvance(text)
            painter.drawText(QPointF(x - width / 2, axis_y + line_h * 1.15), text)
            k += 1
        # events, newest drawn last; labels take the first of two rows where they fit
        label_font = theme.scaled_font(self.font(), 0.9, bold=True)
        row_right = [-1e9, -1e9]
        for mark in self.visible_events():
            x = self.x_of(mark.t)
            color = theme.label_color(mark.label)
            painter.setPen(QPen(color, max(1.0, line_h / 12)))
            painter.drawLine(QPointF(x, axis_y), QPointF(x, axis_y - line_h * 0.9))
            painter.setBrush(color)
            painter.setPen(Qt.PenStyle.NoPen)
            radius = line_h * 0.28
            painter.drawEllipse(QPointF(x, axis_y), radius, radius)
            text = f"{theme.pretty_label(mark.label)} {mark.score:.0%}"
            fill = QColor(color)
            fill.setAlpha(45)
            pill = self._pills.get(text, font=label_font, border=color, fill=fill, dpr=self.devicePixelRatioF(),
                                   height_lines=1.4, pad_lines=0.45)
            width = pill.deviceIndependentSize().width()
            box_left = min(max(x - width / 2, 0.0), self.width() - width)
            for row in (0, 1):
                if box_left > row_right[row] + 4:
                    row_right[row] = box_left + width
                    painter.drawPixmap(QPointF(box_left, axis_y - line_h * (2.3 + 1.35 * row)), pill)
                    break
        if not self._events:
            painter.setPen(QColor(theme.TEXT_MUTED))
            painter.setFont(self.font())
            painter.drawText(QRectF(0, 0, self.width(), axis_y), Qt.AlignmentFlag.AlignCenter,
                             "Recognised gestures appear here")
        painter.end()
