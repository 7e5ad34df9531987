"""The replay's seek bar: step buttons, a position slider and position / length."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QWidget


def format_time(seconds: float) -> str:
    """``m:ss.s``, never negative."""
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


class SeekBar(QWidget):
    """Emits ``seek_requested(seconds)`` when the user moves the slider (on release) and
    ``step_requested(frames)`` for the step buttons; ``follow`` shows the replay's position quietly."""

    seek_requested = pyqtSignal(float)
    step_requested = pyqtSignal(int)

    def __init__(self) -> None:
        super().__init__()
        self._following = False  # True while the slider is set from the replay (no seek)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.step_back_button = QToolButton()
        self.step_back_button.setText("◀")
        self.step_back_button.setToolTip("Step back one frame (Left)")
        self.step_back_button.clicked.connect(lambda: self.step_requested.emit(-1))
        self.step_forward_button = QToolButton()
        self.step_forward_button.setText("▶")
        self.step_forward_button.setToolTip("Step forward one frame (Right)")
        self.step_forward_button.clicked.connect(lambda: self.step_requested.emit(1))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setTracking(False)  # seek on release, not on every pixel dragged
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(self._on_slider)
        self.time_label = QLabel("0:00.0 / 0:00.0")
        for widget in (self.step_back_button, self.step_forward_button):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            layout.addWidget(widget)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.time_label)
        self.hide()

    def follow(self, *, position: float, duration: float, paused: bool) -> None:
        """Show the replay's position and length (seconds); stepping is enabled while paused."""
        self._following = True
        try:
            self.slider.setRange(0, int(duration * 1000))
            if not self.slider.isSliderDown():
                self.slider.setValue(int(position * 1000))
        finally:
            self._following = False
        self.time_label.setText(f"{format_time(position)} / {format_time(duration)}")
        self.step_back_button.setEnabled(paused)
        self.step_forward_button.setEnabled(paused)

    def _on_slider(self, value: int) -> None:
        if not self._following:
            self.seek_requested.emit(value / 1000.0)
