"""The toolbar: source menu, open file, model, pause, record, the score threshold, actions on/off,
and the view toggles at the right."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QDoubleSpinBox, QLabel, QSizePolicy, QToolBar, QToolButton, QWidget

from app.ui.commands import WindowCommands


class ControlBar(QToolBar):
    """The window's commands as buttons, plus the threshold spin box: ``threshold_changed(score)``
    fires when the user changes it, not when ``follow_threshold`` sets it from the engine."""

    threshold_changed = pyqtSignal(float)

    def __init__(self, commands: WindowCommands) -> None:
        super().__init__("Controls")
        self._following = False  # True while the spin box is set from the engine (no threshold_changed)
        self.setMovable(False)
        self.setFloatable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.source_button = QToolButton()
        self.source_button.setText("Source")
        self.source_button.setMenu(commands.source_menu)
        self.source_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.source_button.setToolTip("Choose the source")
        self.addWidget(self.source_button)
        self.addAction(commands.open_file)
        self.addAction(commands.choose_model)
        self.addSeparator()
        self.addAction(commands.pause)
        self.addAction(commands.record)
        self.widgetForAction(commands.record).setObjectName("recordButton")
        self.addSeparator()
        self.addWidget(QLabel(" Threshold "))
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.0, 1.0)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setValue(0.5)
        self.threshold_spin.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.threshold_spin.setToolTip("Minimum score for a gesture event (+ / -)")
        self.threshold_spin.valueChanged.connect(self._on_threshold)
        self.addWidget(self.threshold_spin)
        self.addAction(commands.gesture_actions)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(spacer)
        for action in (commands.mirror, commands.depth, commands.fullscreen, commands.help):
            self.addAction(action)
        for button in self.findChildren(QToolButton):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def follow_threshold(self, score: float) -> None:
        """Show the engine's threshold, unless the user is typing one."""
        if self.threshold_spin.hasFocus():
            return
        self._following = True
        try:
            self.threshold_spin.setValue(score)
        finally:
            self._following = False

    def _on_threshold(self, value: float) -> None:
        if not self._following:
            self.threshold_changed.emit(float(value))
