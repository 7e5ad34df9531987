"""Start a recording: where to write it and, optionally, which gestures to prompt the user for."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QPushButton, QVBoxLayout, QWidget,
)

from fusion.labels import NO_GESTURE
from app.ui import theme


class RecordDialog(QDialog):
    """Path, a prompt-mode check box and the gestures to prompt (all ticked by default)."""

    def __init__(self, *, default_path: str, labels: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start recording")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Record the current source to:"))
        row = QHBoxLayout()
        self.path_edit = QLineEdit(default_path)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        layout.addLayout(row)
        self.prompt_box = QCheckBox("Prompt me to perform gestures (label prompt mode)")
        layout.addWidget(self.prompt_box)
        self.gesture_list = QListWidget()
        for label in labels:
            if label == NO_GESTURE:
                continue
            item = QListWidgetItem(theme.pretty_label(label))
            item.setData(Qt.ItemDataRole.UserRole, label)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.gesture_list.addItem(item)
        self.gesture_list.setEnabled(False)
        self.prompt_box.toggled.connect(self.gesture_list.setEnabled)
        layout.addWidget(self.gesture_list, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Record")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(self.fontMetrics().horizontalAdvance("M") * 36, self.fontMetrics().height() * 26)

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Record to", self.path_edit.text())
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        dialog.fileSelected.connect(self.path_edit.setText)
        dialog.open()

    def path(self) -> str:
        return self.path_edit.text().strip()

    def prompt_gestures(self) -> tuple[str, ...]:
        """The ticked gestures in list order when prompt mode is on, else ()."""
        if not self.prompt_box.isChecked():
            return ()
        items = (self.gesture_list.item(i) for i in range(self.gesture_list.count()))
        return tuple(item.data(Qt.ItemDataRole.UserRole) for item in items
                     if item.checkState() == Qt.CheckState.Checked)
