"""The current gesture in large type with its confidence, and the top-k class probabilities as bars."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QPainter, QPaintEvent
from PyQt6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.snapshot import EventMark
from app.ui import theme


def top_k(labels: tuple[str, ...], probs: np.ndarray | None, k: int) -> list[tuple[str, float]]:
    """The ``k`` most probable (label, probability) pairs, most probable first."""
    if probs is None or len(labels) == 0:
        return []
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)[: len(labels)]  # (K,)
    order = np.argsort(-probs, kind="stable")[:k]
    return [(labels[i], float(probs[i])) for i in order]


class TopKBars(QWidget):
    """One row per class: name, a bar as long as its probability, the percentage."""

    def __init__(self, *, k: int = 5, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._k = k
        self._rows: list[tuple[str, float]] = []
        self._highlight = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_rows(self, rows: list[tuple[str, float]], *, highlight: str = "", repaint: bool = True) -> None:
        """(label, probability) rows, most probable first; ``repaint=False`` leaves ``update()`` to the caller."""
        self._rows, self._highlight = rows, highlight
        if repaint:
            self.update()

    def rows(self) -> list[tuple[str, float]]:
        return list(self._rows)

    def _row_height(self) -> float:
        return self.fontMetrics().height() * 1.75

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("M") * 22, int(self._row_height() * self._k) + 2)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.PANEL))  # opaque: the card behind is not repainted
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = self.fontMetrics()
        row_h = self._row_height()
        name_w = self.width() * 0.42
        pct_w = metrics.horizontalAdvance("100%") + metrics.height() * 0.5
        bar_w = max(1.0, self.width() - name_w - pct_w)
        if not self._rows:
            painter.setPen(QColor(theme.TEXT_MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No predictions yet")
        for i, (label, prob) in enumerate(self._rows):
            top = i * row_h
            strong = label == self._highlight
            painter.setPen(QColor(theme.TEXT if strong or i == 0 else theme.TEXT_MUTED))
            text_rect = QRectF(0, top, name_w - 6, row_h)
            name = metrics.elidedText(theme.pretty_label(label), Qt.TextElideMode.ElideRight, int(text_rect.width()))
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
            track = QRectF(name_w, top + row_h * 0.32, bar_w, row_h * 0.36)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.PANEL_RAISED))
            painter.drawRoundedRect(track, track.height() / 2, track.height() / 2)
            fill = QRectF(track)
            fill.setWidth(max(track.height(), track.width() * min(max(prob, 0.0), 1.0)))
            color = theme.label_color(label)
            if not (strong or i == 0):
                color.setAlpha(150)
            painter.setBrush(color)
            painter.drawRoundedRect(fill, fill.height() / 2, fill.height() / 2)
            painter.setPen(QColor(theme.TEXT if strong or i == 0 else theme.TEXT_MUTED))
            painter.drawText(QRectF(name_w + bar_w, top, pct_w, row_h),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, f"{prob:.0%}")
        painter.end()


def _card(title: str) -> tuple[QFrame, QVBoxLayout]:
    card = QFrame()
    card.setObjectName("card")
    layout = QVBoxLayout(card)
    heading = QLabel(title.upper())
    heading.setObjectName("cardTitle")
    layout.addWidget(heading)
    return card, layout


class PredictionPanel(QWidget):
    """Two cards: the current gesture, and the top-k classes."""

    def __init__(self, *, k: int = 5, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        gesture_card, gesture_layout = _card("Gesture")
        self.name_label = QLabel("No gesture")
        self.name_label.setObjectName("gestureName")
        self.name_label.setProperty("idle", True)
        self.score_label = QLabel("waiting for the model")
        self.score_label.setObjectName("gestureScore")
        gesture_layout.addWidget(self.name_label)
        gesture_layout.addWidget(self.score_label)
        bars_card, bars_layout = _card(f"Top {k} classes")
        self.bars = TopKBars(k=k)
        bars_layout.addWidget(self.bars)
        outer.addWidget(gesture_card)
        outer.addWidget(bars_card)
        self._k = k

    def update_from(self, labels: tuple[str, ...], probs: np.ndarray | None, current: EventMark | None,
                    *, repaint_bars: bool = True) -> None:
        """Show the current gesture (or none) and the top-k bars of ``probs``."""
        if current is not None:
            self.name_label.setText(theme.pretty_label(current.label))
            self.score_label.setText(f"{current.score:.0%} confidence")
            idle = False
        else:
            self.name_label.setText("No gesture")
            self.score_label.setText("listening…" if probs is not None else "waiting for the model")
            idle = True
        if self.name_label.property("idle") != idle:
            self.name_label.setProperty("idle", idle)
            self.name_label.style().unpolish(self.name_label)
            self.name_label.style().polish(self.name_label)
        self.bars.set_rows(top_k(labels, probs, self._k), highlight=current.label if current else "",
                           repaint=repaint_bars)

    def current_text(self) -> str:
        return f"{self.name_label.text()} — {self.score_label.text()}"
