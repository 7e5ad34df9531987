"""The main window: video with skeleton, depth, predictions, timeline, HUD, controls.

The engine publishes ``Snapshot``s into ``controls.slot``; a QTimer on the GUI thread takes the
newest one every ``refresh_ms`` and updates the views. Nothing else crosses threads: the window
drives the engine only through ``EngineControls``, whose calls return at once.

Its parts: ``WindowCommands`` (menus and shortcuts), ``ControlBar`` (toolbar), ``ErrorBanner``,
``SeekBar``, ``StatusLine``; the views (``VideoView`` with the ``Hud``, ``PredictionPanel``,
``DepthView``, ``Timeline``) are laid out here.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Callable

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QCloseEvent
from PyQt6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QInputDialog, QLabel, QMainWindow, QVBoxLayout, QWidget

from app.snapshot import EngineControls, Snapshot
from app.ui import theme
from app.ui.commands import WindowCommands
from app.ui.control_bar import ControlBar
from app.ui.depth_view import DepthView
from app.ui.error_banner import ErrorBanner
from app.ui.help_dialog import HelpDialog
from app.ui.hud import Hud
from app.ui.prediction_panel import PredictionPanel
from app.ui.record_dialog import RecordDialog
from app.ui.repaint_throttle import RepaintThrottle
from app.ui.seek_bar import SeekBar
from app.ui.status_line import StatusLine
from app.ui.timeline import Timeline
from app.ui.video_view import VideoView
from app.ui.window_config import WindowConfig
from fusion.labels import DEFAULT_LABELS

MODEL_FILTER = "Checkpoints (*.pt *.pth *.ckpt *.safetensors *.onnx);;All files (*)"
MEDIA_FILTER = ("Recordings and videos (*.bag *.db3 *.mp4 *.avi *.mov *.mkv *.webm *.npz *.mmtm);;"
                "All files (*)")


def _card(title: str, content: QWidget, *, stretch: int) -> tuple[QFrame, QVBoxLayout]:
    """A titled panel around ``content`` (the theme draws ``#card`` frames)."""
    card = QFrame()
    card.setObjectName("card")
    layout = QVBoxLayout(card)
    heading = QLabel(title)
    heading.setObjectName("cardTitle")
    layout.addWidget(heading)
    layout.addWidget(content, stretch)
    return card, layout


class MainWindow(QMainWindow):
    """The application window. ``snapshot_shown`` fires after each snapshot is displayed;
    ``closed`` once, when the window closes (after ``controls.shutdown()``)."""

    snapshot_shown = pyqtSignal(object)
    closed = pyqtSignal()
    SIDE_VIEW_HZ = 15.0  # depth map, class bars and timeline repaint at most this often

    def __init__(self, controls: EngineControls, *, config: WindowConfig = WindowConfig()) -> None:
        super().__init__()
        self.controls = controls
        self.config = config
        self.last_snapshot: Snapshot | None = None
        self._paused = False
        self._recording: str | None = None
        self._labels: tuple[str, ...] = DEFAULT_LABELS
        self._shut_down = False
        self._shown_times: deque[float] = deque(maxlen=120)
        self._side_views = RepaintThrottle(max_hz=self.SIDE_VIEW_HZ)
        self.dialog: QWidget | None = None  # the file/record/input dialog open now, if any

        self.setWindowTitle(config.title)
        self.resize(*config.size)
        self._build_views()
        self.commands = WindowCommands(self)
        self.control_bar = ControlBar(self.commands)
        self.control_bar.threshold_changed.connect(lambda score: self._call("set_threshold", score))
        # typing in the spin box takes the keys; Enter hands them back to the window's shortcuts
        self.control_bar.threshold_spin.editingFinished.connect(self.video.setFocus)
        self.addToolBar(self.control_bar)
        self.status_line = StatusLine(self.statusBar())
        self.set_mirrored(config.mirror)
        self.set_depth_visible(config.show_depth)

        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(config.refresh_ms)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        self._offer_taught_models()

    def _build_views(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(10, 8, 10, 6)
        outer.setSpacing(8)
        self.banner = ErrorBanner()
        outer.addWidget(self.banner)

        row = QHBoxLayout()
        row.setSpacing(10)
        self.video = VideoView(mirrored=self.config.mirror, swap_handedness=self.config.swap_handedness)
        self.hud = Hud()
        self.video.set_corner_widget(self.hud)  # the HUD floats over the image's top-left corner
        self.video.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # a click on the video ends typing elsewhere
        row.addWidget(self.video, 1)
        self.sidebar = QWidget()
        side = QVBoxLayout(self.sidebar)
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(8)
        self.predictions = PredictionPanel(k=self.config.top_k)
        side.addWidget(self.predictions)
        self.depth = DepthView(mirrored=self.config.mirror, range_m=self.config.depth_range_m)
        self.depth_card, _ = _card("DEPTH", self.depth, stretch=1)
        side.addWidget(self.depth_card, 1)
        row.addWidget(self.sidebar)
        outer.addLayout(row, 1)

        self.timeline = Timeline(seconds=self.config.timeline_seconds)
        timeline_card, timeline_layout = _card("RECENT GESTURES", self.timeline, stretch=0)
        timeline_layout.setContentsMargins(10, 6, 10, 4)
        outer.addWidget(timeline_card)

        self.seek_bar = SeekBar()
        self.seek_bar.seek_requested.connect(lambda seconds: self._call("seek", seconds))
        self.seek_bar.step_requested.connect(self.step)
        outer.addWidget(self.seek_bar)
        self.setCentralWidget(central)

    # --- the snapshot loop -----------------------------------------------------------------------

    def poll(self) -> None:
        """Take the newest snapshot, if there is a new one, and show it."""
        snapshot = self.controls.slot.take_new()
        if snapshot is not None:
            self.show_snapshot(snapshot)
        elif self._side_views:
            self._side_views.flush()

    def show_snapshot(self, s: Snapshot) -> None:
        """Update every view from one snapshot (GUI thread only)."""
        self.last_snapshot = s
        self._shown_times.append(time.monotonic())
        if s.labels:
            self._labels = s.labels
        self.video.set_frame(s.color, s.skeleton)
        if s.current is not None:
            self.video.set_caption(f"{theme.pretty_label(s.current.label)}  {s.current.score:.0%}",
                                   theme.label_color(s.current.label))
        else:
            self.video.set_caption("")
        # The video follows every snapshot; the side views repaint at most SIDE_VIEW_HZ each, one
        # per timer tick (their data is always the newest).
        if self.depth_card.isVisible():
            self._side_views.later("depth", lambda: self.depth.set_depth(s.depth, s.depth_scale))
        self.predictions.update_from(s.labels, s.probs, s.current, repaint_bars=False)
        self._side_views.later("bars", self.predictions.bars.update)
        self.timeline.set_events(s.events, s.t, repaint=False)
        self._side_views.later("timeline", self.timeline.update)
        self.hud.update_from(s, view_fps=self.view_fps())
        self._show_state(s)
        if self.banner.follow(s.error):
            self.statusBar().showMessage(s.error, 10000)
        self._side_views.flush()
        self.snapshot_shown.emit(s)

    def catch_up(self) -> None:
        """Bring every view up to the newest snapshot now (before a screenshot)."""
        self._side_views.flush(force=True)
        if self.last_snapshot is not None:
            self.hud.update_from(self.last_snapshot, view_fps=self.view_fps(), force=True)

    def view_fps(self) -> float:
        """Snapshots shown per second over the last ones."""
        if len(self._shown_times) < 2:
            return 0.0
        span = self._shown_times[-1] - self._shown_times[0]
        return (len(self._shown_times) - 1) / span if span > 0 else 0.0

    def _show_state(self, s: Snapshot) -> None:
        # setText/setChecked on actions do not trigger them; the spin box and the slider follow quietly
        self._paused = s.paused
        self.commands.pause.setText("Resume" if s.paused else "Pause")
        self._recording = s.recording
        self.commands.record.setText("Stop recording" if s.recording else "Record")
        self.commands.record.setChecked(s.recording is not None)
        if s.threshold is not None:
            self.control_bar.follow_threshold(s.threshold)
        if s.actions_enabled is not None:
            self.commands.gesture_actions.setChecked(s.actions_enabled)
        self.seek_bar.setVisible(s.seekable)
        if s.seekable:
            self.seek_bar.follow(position=s.position, duration=s.duration, paused=s.paused)
        self.status_line.show(s)
        title = f"{self.config.title} — {s.source}" if s.source else self.config.title
        if self.windowTitle() != title:
            self.setWindowTitle(title)

    def show_message(self, text: str) -> None:
        """Show an error in the banner and the status bar; the app keeps running."""
        self.banner.show_message(text)
        self.statusBar().showMessage(text, 10000)

    def error_text(self) -> str:
        """The banner's message ('' when hidden)."""
        return self.banner.text()

    def dismiss_error(self) -> None:
        self.banner.dismiss()

    # --- controls --------------------------------------------------------------------------------

    def _call(self, name: str, *args: object) -> None:
        """Call an engine control; an exception becomes a message, never a crash."""
        try:
            getattr(self.controls, name)(*args)
        except Exception as error:  # the engine should report via Snapshot.error; be safe anyway
            self.show_message(f"{name} failed: {error}")

    def open_source(self, source: str) -> None:
        self._call("open_source", source)
        self.statusBar().showMessage(f"opening {source}…", 3000)

    def _open_dialog(self, dialog: QWidget) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _=0: setattr(self, "dialog", None) if self.dialog is dialog else None)
        dialog.open()

    def _file_dialog(self, title: str, name_filter: str, on_selected: Callable[[str], None]) -> QFileDialog:
        dialog = QFileDialog(self, title, str(Path.cwd()), name_filter)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        dialog.fileSelected.connect(on_selected)
        self._open_dialog(dialog)
        return dialog

    def open_file_dialog(self) -> QFileDialog:
        """Ask for a recording or video to play (non-blocking)."""
        return self._file_dialog("Open a recording or video", MEDIA_FILTER, self.open_source)

    def open_model_dialog(self) -> QFileDialog:
        """Ask for a model checkpoint (non-blocking)."""
        return self._file_dialog("Choose a model checkpoint", MODEL_FILTER, lambda p: self._call("swap_model", p))

    def use_default_model(self) -> None:
        self._call("swap_model", None)

    def _ask(self, title: str, label: str, prefix: str) -> QInputDialog:
        dialog = QInputDialog(self)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.textValueSelected.connect(lambda text: self.open_source(prefix + text.strip()) if text.strip() else None)
        self._open_dialog(dialog)
        return dialog

    def ask_realsense_serial(self) -> QInputDialog:
        return self._ask("RealSense camera", "Serial number:", "realsense:")

    def ask_webcam_index(self) -> QInputDialog:
        return self._ask("Webcam", "Camera index (0, 1, …):", "webcam:")

    def toggle_pause(self) -> None:
        self._paused = not self._paused
        self.commands.pause.setText("Resume" if self._paused else "Pause")
        self._call("set_paused", self._paused)

    def step(self, frames: int) -> None:
        """Step a paused replay by ``frames``; elsewhere say why it does nothing."""
        s = self.last_snapshot
        if s is None or not s.seekable or not self._paused:
            self.statusBar().showMessage("Stepping works in a paused replay (Space pauses)", 3000)
            return
        self._call("step", frames)

    def toggle_recording(self) -> None:
        if self._recording is not None:
            self._call("stop_recording")
            self._recording = None
            self.commands.record.setChecked(False)
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        default = str(Path(self.config.recordings_dir) / f"recording-{stamp}{self.config.recording_suffix}")
        dialog = RecordDialog(default_path=default, labels=self._labels, parent=self)
        dialog.accepted.connect(lambda: self._start_recording(dialog))
        dialog.finished.connect(lambda _=0: self.commands.record.setChecked(self._recording is not None))
        self._open_dialog(dialog)

    def _offer_taught_models(self) -> None:
        """At start: the personal models saved by the Teach panel, and where to use them."""
        from app.ui.teach_panel import saved_models

        names = [path.stem for path in saved_models()]
        if names:
            self.statusBar().showMessage(f"your taught models: {', '.join(names[:3])}{' …' if len(names) > 3 else ''}"
                                         " — Recognition ▸ Teach… ▸ Use saved", 20000)

    def open_teach_panel(self):
        """The Teach panel (non-modal), teaching the running model when it reads skeletons only,
        else the shipped webcam model."""
        from app.ui.teach_panel import TeachPanel, teach_base

        model = self.last_snapshot.model if self.last_snapshot is not None else ""
        panel = TeachPanel(self.controls, labels=self._labels, base_model=teach_base(model), parent=self)
        self._open_dialog(panel)
        return panel

    def _start_recording(self, dialog: RecordDialog) -> None:
        path = dialog.path()
        if not path:
            self.show_message("no recording path given")
            return
        self._recording = path
        self.commands.record.setChecked(True)
        self._call("start_recording", path, dialog.prompt_gestures())

    def raise_threshold(self) -> None:
        self.control_bar.threshold_spin.stepUp()

    def lower_threshold(self) -> None:
        self.control_bar.threshold_spin.stepDown()

    def set_actions_enabled(self, enabled: bool) -> None:
        self._call("set_actions_enabled", bool(enabled))

    # --- view ------------------------------------------------------------------------------------

    def set_mirrored(self, mirrored: bool) -> None:
        self.commands.mirror.setChecked(mirrored)
        self.video.set_mirrored(mirrored)
        self.depth.set_mirrored(mirrored)

    def set_depth_visible(self, visible: bool) -> None:
        self.commands.depth.setChecked(visible)
        self.depth_card.setVisible(visible)
        if visible and self.last_snapshot is not None:
            s = self.last_snapshot
            self._side_views.later("depth", lambda: self.depth.set_depth(s.depth, s.depth_scale))
            self._side_views.flush()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        em = self.fontMetrics().horizontalAdvance("M")
        self.sidebar.setFixedWidth(min(max(int(self.width() * 0.26), em * 24), em * 40))

    def toggle_fullscreen(self, on: bool) -> None:
        if on:
            self.showFullScreen()
        else:
            self.showNormal()

    def leave_fullscreen(self) -> None:
        if self.isFullScreen():
            self.commands.fullscreen.setChecked(False)
            self.showNormal()

    def shortcuts(self) -> list[tuple[str, str]]:
        """Every keyboard shortcut of the window: (keys, what it does)."""
        return self.commands.shortcuts()

    def show_help(self) -> HelpDialog:
        dialog = HelpDialog(self.shortcuts(), parent=self)
        self._open_dialog(dialog)
        return dialog

    def closeEvent(self, event: QCloseEvent) -> None:
        self.timer.stop()
        if not self._shut_down:
            self._shut_down = True
            self._call("shutdown")
            self.closed.emit()
        event.accept()
