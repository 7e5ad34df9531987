"""The red banner above the video: the engine's last error (or the window's own), until it changes
or ✕ dismisses it. The app keeps running."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton


class ErrorBanner(QFrame):
    """A one-line error message with a dismiss button; hidden when there is nothing to say."""

    def __init__(self) -> None:
        super().__init__()
        self._shown_error: str | None = None
        self._dismissed_error: str | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setObjectName("banner")
        self.label.setWordWrap(True)
        close = QPushButton("✕")
        close.setObjectName("bannerClose")
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(f"⚠  {text}")
        self.show()

    def follow(self, error: str | None) -> bool:
        """Follow the engine's current error: hide when None, show a new one unless it was dismissed.
        True when ``error`` has just been shown."""
        if error == self._shown_error:
            return False
        self._shown_error = error
        if error is None:
            self.hide()
            return False
        if error == self._dismissed_error:
            return False
        self.show_message(error)
        return True

    def text(self) -> str:
        """The message ('' when hidden)."""
        return self.label.text() if not self.isHidden() else ""

    def dismiss(self) -> None:
        """Hide the message until the engine reports another error."""
        self._dismissed_error = self._shown_error
        self.hide()
