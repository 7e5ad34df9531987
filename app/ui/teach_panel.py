"""Teach it your hand, in the window: record takes of a gesture, train, check, use, save, revert.

The panel drives the engine through its controls (``start_recording`` / ``stop_recording`` for each
take, ``swap_model`` to use a model) and trains with ``main.py teach`` in a child process
(``QProcess``): the video never waits for it, and Cancel ends it at once. Takes are ``.mmtm``
recordings in a folder of their own, one per take, labelled by the recorder's prompt mode, each
listed with a strip of its hand skeleton and played back beside the list (``TakePlayer``); the
model it writes is an ordinary checkpoint. Save copies both into the user's data folder
(``user_data_dir()``: ``~/.local/share/mmtm-live`` on Linux), where the panel offers them again.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QProcess, QProcessEnvironment, QRectF, QStandardPaths, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QIcon, QPainter, QPixmap
from PyQt6.QtWidgets import (
    QComboBox, QDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton,
    QSpinBox, QVBoxLayout, QWidget,
)

from app.snapshot import EngineControls
from app.ui.take_player import BACKGROUND, TakePlayer, paint_frame
from fusion.labels import NO_GESTURE
from fusion.teach import TEMPORAL_LAYERS

ROOT = Path(__file__).resolve().parents[2]
STRIP_FRAMES = 4


def user_data_dir() -> Path:
    """``$MMTM_LIVE_DATA``, else the platform's data folder for the app (``~/.local/share/mmtm-live``)."""
    if os.environ.get("MMTM_LIVE_DATA"):
        return Path(os.environ["MMTM_LIVE_DATA"])
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home() / ".local" / "share") / "mmtm-live"


def saved_models(data_dir: Path | None = None) -> list[Path]:
    """The personal models saved by the Teach panel, by name."""
    models = (data_dir or user_data_dir()) / "models"
    return sorted(models.glob("*.pt")) if models.is_dir() else []


def teach_base(model: str) -> str:
    """``model`` when it is a checkpoint that reads skeletons only (it can be taught), else the
    shipped webcam model."""
    from fusion.checkpoint import read_checkpoint
    from fusion.errors import BadInput

    try:
        if model and tuple(read_checkpoint(model)[0].config.modalities) == ("skeleton",):
            return model
    except (BadInput, OSError, ValueError):
        pass
    return str(ROOT / "assets" / "model_skeleton.pt")


@dataclass(frozen=True)
class Take:
    path: Path
    label: str


class TeachPanel(QDialog):
    """Record takes, train, check, use, save, revert (module docstring). ``report_ready`` carries the
    ``teach --json`` report once a training ends well."""

    report_ready = pyqtSignal(dict)

    def __init__(self, controls: EngineControls, *, labels: tuple[str, ...], base_model: str,
                 data_dir: Path | None = None, countdown_s: int = 3, take_s: float = 2.0,
                 teach_args: tuple[str, ...] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Teach a gesture")
        self.controls = controls
        self.base_model = base_model
        self.data_dir = data_dir or user_data_dir()
        self.countdown_s, self.take_s, self.teach_args = countdown_s, take_s, teach_args
        self.work = Path(tempfile.mkdtemp(prefix="mmtm-teach-"))
        self.takes_dir = self.work / "takes"
        self.takes_dir.mkdir()
        self.takes: list[Take] = []
        self.model: str | None = None  # the trained personal model
        self.report: dict | None = None
        self._plan: list[str] = []  # labels of the takes still to record
        self._process: QProcess | None = None
        self._take_path: Path | None = None  # the take being recorded
        self._in_use = False

        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.gesture = QComboBox()
        self.gesture.setEditable(True)
        self.gesture.addItems([label for label in labels if label != NO_GESTURE])
        self.count = QSpinBox()
        self.count.setRange(1, 20)
        self.count.setValue(5)
        self.record_button = QPushButton("Record takes")
        self.record_button.clicked.connect(lambda: self.record_takes(self.gesture.currentText(), self.count.value()))
        self.nothing_button = QPushButton("Record nothing")
        self.nothing_button.setToolTip("takes of idle hands, so that it stays quiet")
        self.nothing_button.clicked.connect(lambda: self.record_takes(NO_GESTURE, 2))
        for widget in (QLabel("Gesture"), self.gesture, QLabel("takes"), self.count, self.record_button,
                       self.nothing_button):
            row.addWidget(widget)
        layout.addLayout(row)
        self.prompt = QLabel("Pick a gesture (or type a new name) and record a few takes of it.")
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.prompt)
        self.take_list = QListWidget()
        self.take_list.setIconSize(QPixmap(STRIP_FRAMES * 48, 48).size())
        self.take_list.itemDoubleClicked.connect(lambda item: self.play_selected())
        self.player = TakePlayer()
        self.player.failed.connect(self.prompt.setText)
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("play the selected take back (or double-click it)")
        self.play_button.clicked.connect(self.play_selected)
        self.delete_button = QPushButton("Delete take")
        self.delete_button.clicked.connect(self.delete_selected)
        row, side = QHBoxLayout(), QVBoxLayout()
        for widget in (self.player, self.play_button, self.delete_button):
            side.addWidget(widget)
        side.addStretch(1)
        row.addWidget(self.take_list, 1)
        row.addLayout(side)
        layout.addLayout(row, 1)
        row = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.clicked.connect(self.train)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        for widget in (self.train_button, self.cancel_button):
            row.addWidget(widget)
        row.addWidget(self.progress, 1)
        layout.addLayout(row)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        row = QHBoxLayout()
        self.use_button = QPushButton("Use")
        self.use_button.clicked.connect(self.use)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(lambda: self.save())
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("back to the shipped model")
        self.revert_button.clicked.connect(self.revert)
        for widget in (self.use_button, self.save_button, self.revert_button):
            row.addWidget(widget)
        layout.addLayout(row)
        self.saved = QComboBox()
        self.use_saved_button = QPushButton("Use saved")
        self.use_saved_button.clicked.connect(self.use_saved)
        row = QHBoxLayout()
        row.addWidget(QLabel("Your saved models"))
        row.addWidget(self.saved, 1)
        row.addWidget(self.use_saved_button)
        layout.addLayout(row)
        self.refresh_saved()
        self._update_buttons()

    # --- takes -------------------------------------------------------------------------------------

    def record_takes(self, label: str, count: int) -> None:
        """Record ``count`` takes of ``label``, each after a countdown, one file each."""
        label = "_".join(label.strip().lower().split())
        if not label or not label.replace("_", "").isalnum():
            self.prompt.setText("a gesture name is letters, digits and spaces")
            return
        self.player.stop()
        self._plan = [label] * count
        self._update_buttons()
        self._next_take()

    def _next_take(self) -> None:
        if not self._plan:
            self.prompt.setText(f"{len(self.takes)} takes recorded. Record more, or Train.")
            self._update_buttons()
            return
        self._countdown(self.countdown_s)

    def _countdown(self, left: int) -> None:
        if not self._plan:  # cancelled
            return
        label = self._plan[0]
        if left > 0:
            self.prompt.setText(f"{_pretty(label)} in {left}…")
            QTimer.singleShot(1000, lambda: self._countdown(left - 1))
            return
        number = sum(t.label == label for t in self.takes) + 1
        path = self.takes_dir / f"{label}-{number:02d}-{len(self.takes):03d}.mmtm"
        self.prompt.setText(f"now: {_pretty(label)} (take {number})")
        self.controls.start_recording(str(path), (label,))
        self._take_path = path
        QTimer.singleShot(int(self.take_s * 1000), lambda: self._end_take(path, label))

    def _end_take(self, path: Path, label: str) -> None:
        if self._take_path != path:  # cancelled: stopped already, and the take dropped
            return
        self.controls.stop_recording()
        self._take_path = None
        self._plan.pop(0)
        if path.is_file():
            self.add_take(Take(path, label))
        else:
            self.prompt.setText(f"the take of {_pretty(label)} was not written")
        QTimer.singleShot(500, self._next_take)

    def add_take(self, take: Take) -> None:
        self.takes.append(take)
        item = QListWidgetItem(QIcon(take_strip(take.path)), f"{_pretty(take.label)}  ({take.path.name})")
        item.setData(Qt.ItemDataRole.UserRole, str(take.path))
        self.take_list.addItem(item)
        self._update_buttons()

    def play_selected(self) -> None:
        """Play the selected take back (the last one when none is selected)."""
        items = self.take_list.selectedItems() or [self.take_list.item(self.take_list.count() - 1)]
        if self.play_button.isEnabled() and items[0] is not None:
            self.player.play(Path(items[0].data(Qt.ItemDataRole.UserRole)))

    def delete_selected(self) -> None:
        for item in self.take_list.selectedItems():
            path = Path(item.data(Qt.ItemDataRole.UserRole))
            if path == self.player.path:
                self.player.clear()
            self.takes = [t for t in self.takes if t.path != path]
            path.unlink(missing_ok=True)
            self.take_list.takeItem(self.take_list.row(item))
        self._update_buttons()

    # --- train -------------------------------------------------------------------------------------

    def train(self) -> None:
        """``main.py teach`` on the takes, in a child process; its progress lines in the panel."""
        self.player.stop()
        self.model, self.report = None, None
        out = self.work / f"personal-{len(os.listdir(self.work)):03d}.pt"
        process = QProcess(self)
        process.setWorkingDirectory(str(ROOT))
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), env.value("PYTHONPATH")])))
        process.setProcessEnvironment(env)
        process.readyReadStandardError.connect(lambda: self._progress_lines(process))
        process.finished.connect(lambda code, status: self._trained(process, out, code))
        process.errorOccurred.connect(lambda error: self._failed_to_start(process, out, error))
        self._process = process
        self.progress.setRange(0, 0)  # busy
        self.result.setText("training…")
        self._update_buttons()
        process.start(sys.executable, ["main.py", "teach", "--takes", str(self.takes_dir), "--out", str(out),
                                       "--model", self.base_model, "--json", *self.teach_args])

    def _failed_to_start(self, process: QProcess, out: Path, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:  # no finished signal follows
            self.result.setText(f"the training could not start ({process.errorString()})")
            self._trained(process, out, -1)

    def _progress_lines(self, process: QProcess) -> None:
        lines = bytes(process.readAllStandardError()).decode(errors="replace").strip().splitlines()
        if lines:
            self.result.setText(lines[-1])

    def _trained(self, process: QProcess, out: Path, code: int) -> None:
        self._process = None
        self.progress.setRange(0, 1)
        output = bytes(process.readAllStandardOutput()).decode(errors="replace").strip()
        if code != 0 or not output:
            if self.result.text() == "training…" or code == 0:
                self.result.setText("training stopped")
            self._update_buttons()
            return
        self.report = json.loads(output.splitlines()[-1])
        self.model = str(out)
        self.result.setText(report_text(self.report))
        self._update_buttons()
        self.report_ready.emit(self.report)

    def cancel(self) -> None:
        """Stop the training, or the takes still to record (the one being recorded is dropped)."""
        if self._process is not None:
            self._process.kill()
            self.result.setText("training cancelled")
        if self._take_path is not None:
            self.controls.stop_recording()
            self._take_path.unlink(missing_ok=True)
            self._take_path = None
        if self._plan:
            self._plan = []
            self.prompt.setText(f"{len(self.takes)} takes recorded. Record more, or Train.")
        self._update_buttons()

    # --- use, save, revert ---------------------------------------------------------------------------

    def use(self) -> None:
        if self.model:
            self.controls.swap_model(self.model)
            self._in_use = True  # the engine may load it again (a new source): keep it while it runs

    def revert(self) -> None:
        self.controls.swap_model(None)
        self._in_use = False

    def save(self, name: str | None = None) -> Path | None:
        """The personal model and its takes into the user's data folder; the model's path."""
        if not self.model:
            return None
        name = name or "_".join(sorted({t.label for t in self.takes if t.label != NO_GESTURE}))[:60] or "personal"
        models = self.data_dir / "models"
        models.mkdir(parents=True, exist_ok=True)
        path = models / f"{name}.pt"
        shutil.copyfile(self.model, path)
        takes = self.data_dir / "takes" / name
        shutil.copytree(self.takes_dir, takes, dirs_exist_ok=True)
        self.refresh_saved()
        self.result.setText(f"{self.result.text()}\nsaved as {path}")
        return path

    def refresh_saved(self) -> None:
        self.saved.clear()
        for path in saved_models(self.data_dir):
            self.saved.addItem(path.stem, str(path))
        self._update_buttons()

    def use_saved(self) -> None:
        path = self.saved.currentData()
        if path:
            self.controls.swap_model(path)


    def _update_buttons(self) -> None:
        recording, training = bool(self._plan), self._process is not None
        gestures = {t.label for t in self.takes} - {NO_GESTURE}
        self.record_button.setEnabled(not recording and not training)
        self.nothing_button.setEnabled(not recording and not training)
        self.play_button.setEnabled(not recording and bool(self.takes))
        self.delete_button.setEnabled(not recording and bool(self.takes))
        self.train_button.setEnabled(bool(gestures) and not recording and not training)
        self.cancel_button.setEnabled(recording or training)
        self.use_button.setEnabled(self.model is not None)
        self.save_button.setEnabled(self.model is not None)
        self.use_saved_button.setEnabled(self.saved.count() > 0)

    def closeEvent(self, event) -> None:
        self.player.clear()
        self.cancel()
        if not self._in_use:  # a model in use stays where the engine found it (a temporary folder)
            shutil.rmtree(self.work, ignore_errors=True)
        super().closeEvent(event)


def report_text(report: dict) -> str:
    """What the user gets, from ``teach --json``: per taught gesture the held-out estimate, and the old gestures."""
    parts = []
    for label, n in report["taught"].items():
        estimate = report["estimate"].get(label)
        new = " (new)" if label in report["new_labels"] else ""
        parts.append(f"{_pretty(label)}{new}: {n} takes" + (f", {estimate:.0%} of held-out takes right"
                                                            if estimate is not None else ""))
    text = "; ".join(parts) + f". Trained in {report['seconds']} s."
    if TEMPORAL_LAYERS in report.get("frozen", ()):
        text += " Only the classifier learnt (every gesture taught is new): the others are seen as before."
    elif report.get("recipe") == "new gestures":
        text += (" New gestures: learnt from copies of the takes as other hands and views would show them, each "
                 "kept to its false-call budget on the other gestures.")
    if report.get("old_top1") is not None:
        text += f" The other gestures: {report['old_top1']:.0%} (before: {report['base_old_top1']:.0%})."
    return text


def take_strip(path: Path, size: int = 48) -> QPixmap:
    """``STRIP_FRAMES`` frames of the take's hand skeleton side by side (empty boxes where none was seen)."""
    from fusion.data.recording import RecordingReader

    strip = QPixmap(STRIP_FRAMES * size, size)
    strip.fill(QColor(BACKGROUND))
    try:
        with RecordingReader(path) as reader:
            hands = [f.data for f in reader.frames(["skeleton"])]
    except Exception:  # a damaged take: its strip stays empty, the take is still listed
        hands = []
    painter = QPainter(strip)
    for k in range(STRIP_FRAMES):
        hand = hands[int(k * (len(hands) - 1) / max(1, STRIP_FRAMES - 1))] if hands else None
        paint_frame(painter, QRectF(k * size, 0, size, size), hand, fit_hand=True)
    painter.end()
    return strip


def _pretty(label: str) -> str:
    return label.replace("_", " ").capitalize()
