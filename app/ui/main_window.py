"""The main window: video with skeleton, depth, predictions, timeline, HUD, controls.

The engine publishes ``Snapshot``s into ``controls.slot``; a QTimer on the GUI thread takes the
newest one every ``refresh_ms`` and updates the views. Nothing else crosses threads: the window
drives the engine only through ``EngineControls``, whose calls return at once.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QCloseEvent, QKeySequence
from PyQt6.QtWidgets import (
    QDoubleSpinBox, QFileDialog, QFrame, QHBoxLayout, QInputDialog, QLabel, QMainWindow,
    QMenu, QPushButton, QSizePolicy, QSlider, QToolButton, QVBoxLayout, QWidget,
)

from app.snapshot import EngineControls, Snapshot
from app.ui import theme
from app.ui.depth_view import DepthView
from app.ui.help_dialog import HelpDialog
from app.ui.hud import Hud
from app.ui.prediction_panel import PredictionPanel
from app.ui.record_dialog import RecordDialog
from app.ui.timeline import Timeline
from app.ui.video_view import VideoView
from fusion.labels import DEFAULT_LABELS

MODEL_FILTER = "Checkpoints (*.pt *.pth *.ckpt *.safetensors *.onnx);;All files (*)"
MEDIA_FILTER = ("Recordings and videos (*.bag *.db3 *.mp4 *.avi *.mov *.mkv *.webm *.npz *.mmtm);;"
                "All files (*)")


@dataclass(frozen=True)
class WindowConfig:
    """How the window looks and behaves (not what the engine does)."""

    mirror: bool = True  # show the preview mirrored, like a selfie camera
    show_depth: bool = True  # the depth view beside the video
    refresh_ms: int = 15  # how often the window takes the newest snapshot
    top_k: int = 5  # class bars shown
    timeline_seconds: float = 10.0  # how much history the timeline shows
    depth_range_m: tuple[float, float] = (0.2, 2.0)  # near and far ends of the depth colour map
    swap_handedness: bool = False  # True if the landmarker names hands as if the image were mirrored
    recordings_dir: str = "recordings"  # where the record dialog proposes to write
    recording_suffix: str = ""  # appended to the proposed recording name (the format's suffix)
    title: str = "mmtm-live"
    size: tuple[int, int] = (1280, 720)  # initial window size (F: full screen)
    # if set, run_window sets sys.setswitchinterval to this while the window runs (the GUI thread
    # then gets the GIL back sooner from Python-heavy engine threads); None: Python's default, 5 ms
    gil_switch_interval_ms: float | None = None


def _format_time(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


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
        self._shown_error: str | None = None
        self._dismissed_error: str | None = None
        self._shut_down = False
        self._syncing = False  # True while widgets are set from a snapshot (no engine calls)
        self._shown_times: deque[float] = deque(maxlen=120)
        self._help_rows: list[tuple[str, str]] = []
        self._pending: dict[str, Callable[[], None]] = {}
        self._last_run: dict[str, float] = {}
        self.dialog: QWidget | None = None  # the file/record/input dialog open now, if any

        self.setWindowTitle(config.title)
        self.resize(*config.size)
        self._build_views()
        self._build_actions()
        self._build_toolbar()
        self._build_status_bar()
        self._set_mirrored(config.mirror)
        self._set_depth_visible(config.show_depth)

        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(config.refresh_ms)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    # --- layout ----------------------------------------------------------------------------------

    def _build_views(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(10, 8, 10, 6)
        outer.setSpacing(8)

        self.banner = QFrame()
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(0, 0, 0, 0)
        self.banner_label = QLabel()
        self.banner_label.setObjectName("banner")
        self.banner_label.setWordWrap(True)
        close = QPushButton("✕")
        close.setObjectName("bannerClose")
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss_error)
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(close)
        self.banner.hide()
        outer.addWidget(self.banner)

        row = QHBoxLayout()
        row.setSpacing(10)
        self.video = VideoView(mirrored=self.config.mirror, swap_handedness=self.config.swap_handedness)
        self.hud = Hud()
        self.video.set_corner_widget(self.hud)  # the HUD floats over the image's top-left corner
        self.video.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # a click on the video ends typing elsewhere
        row.addWidget(self.video, 1)

        sidebar = QWidget()
        self.sidebar = sidebar
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(8)
        self.predictions = PredictionPanel(k=self.config.top_k)
        side.addWidget(self.predictions)
        self.depth_card = QFrame()
        self.depth_card.setObjectName("card")
        depth_layout = QVBoxLayout(self.depth_card)
        title = QLabel("DEPTH")
        title.setObjectName("cardTitle")
        depth_layout.addWidget(title)
        self.depth = DepthView(mirrored=self.config.mirror, range_m=self.config.depth_range_m)
        depth_layout.addWidget(self.depth, 1)
        side.addWidget(self.depth_card, 1)
        row.addWidget(sidebar)
        outer.addLayout(row, 1)

        timeline_card = QFrame()
        timeline_card.setObjectName("card")
        timeline_layout = QVBoxLayout(timeline_card)
        timeline_layout.setContentsMargins(10, 6, 10, 4)
        heading = QLabel("RECENT GESTURES")
        heading.setObjectName("cardTitle")
        timeline_layout.addWidget(heading)
        self.timeline = Timeline(seconds=self.config.timeline_seconds)
        timeline_layout.addWidget(self.timeline)
        outer.addWidget(timeline_card)

        self.seek_bar = QWidget()
        seek = QHBoxLayout(self.seek_bar)
        seek.setContentsMargins(0, 0, 0, 0)
        self.step_back_button = QToolButton()
        self.step_back_button.setText("◀")
        self.step_back_button.setToolTip("Step back one frame (Left)")
        self.step_back_button.clicked.connect(lambda: self.step(-1))
        self.step_forward_button = QToolButton()
        self.step_forward_button.setText("▶")
        self.step_forward_button.setToolTip("Step forward one frame (Right)")
        self.step_forward_button.clicked.connect(lambda: self.step(1))
        self.seek_slider = QSlider(Qt.Orientation.Horizontal)
        self.seek_slider.setTracking(False)  # seek on release, not on every pixel dragged
        self.seek_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.seek_slider.valueChanged.connect(self._on_seek)
        self.time_label = QLabel("0:00.0 / 0:00.0")
        for widget in (self.step_back_button, self.step_forward_button):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            seek.addWidget(widget)
        seek.addWidget(self.seek_slider, 1)
        seek.addWidget(self.time_label)
        self.seek_bar.hide()
        outer.addWidget(self.seek_bar)
        self.setCentralWidget(central)

    def _action(self, text: str, keys: tuple[str | QKeySequence.StandardKey, ...], slot: Callable,
                *, help_text: str, checkable: bool = False, menu: QMenu | None = None) -> QAction:
        action = QAction(text, self)
        sequences = [QKeySequence(k) for k in keys]
        action.setShortcuts(sequences)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        action.setToolTip(f"{help_text} ({', '.join(s.toString() for s in sequences)})" if keys else help_text)
        action.setStatusTip(help_text)
        action.triggered.connect(slot)  # user activation only; setChecked() from snapshots stays quiet
        self.addAction(action)  # shortcuts work in full screen, without the menu bar
        if menu is not None:
            menu.addAction(action)
        if keys:
            self._help_rows.append((", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in sequences),
                                    help_text))
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.source_menu = QMenu("Source", self)
        self.source_actions = {
            "realsense": self._action("RealSense", (), lambda: self.open_source("realsense"),
                                      help_text="Open the first RealSense camera", menu=self.source_menu),
            "realsense:": self._action("RealSense by serial…", (), self.ask_realsense_serial,
                                       help_text="Open a RealSense camera by its serial number", menu=self.source_menu),
            "webcam": self._action("Webcam", (), lambda: self.open_source("webcam"),
                                   help_text="Open the default webcam", menu=self.source_menu),
            "webcam:": self._action("Webcam by index…", (), self.ask_webcam_index,
                                    help_text="Open a webcam by its index", menu=self.source_menu),
            "sample": self._action("Bundled sample", (), lambda: self.open_source("sample"),
                                   help_text="Play the bundled sample recording", menu=self.source_menu),
        }
        self.source_menu.addSeparator()
        file_menu.addMenu(self.source_menu)
        self.open_action = self._action("Open file…", ("O",), self.open_file_dialog,
                                        help_text="Open a recording or video file", menu=file_menu)
        self.source_menu.addAction(self.open_action)
        file_menu.addSeparator()
        self.model_action = self._action("Choose model…", ("Ctrl+M",), self.open_model_dialog,
                                         help_text="Choose the model checkpoint", menu=file_menu)
        self.default_model_action = self._action("Default model", (), lambda: self._call("set_model", None),
                                                 help_text="Use the default model of the source", menu=file_menu)
        file_menu.addSeparator()
        self.quit_action = self._action("Quit", ("Q", "Ctrl+Q"), self.close, help_text="Quit", menu=file_menu)

        play_menu = bar.addMenu("&Playback")
        self.pause_action = self._action("Pause", ("Space",), self.toggle_pause,
                                         help_text="Pause or resume", menu=play_menu)
        self.step_back_action = self._action("Step back", ("Left",), lambda: self.step(-1),
                                             help_text="Step back one frame (paused replay)", menu=play_menu)
        self.step_forward_action = self._action("Step forward", ("Right",), lambda: self.step(1),
                                                help_text="Step forward one frame (paused replay)", menu=play_menu)
        self.record_action = self._action("Record", ("R",), self.toggle_recording, checkable=True,
                                          help_text="Start or stop recording", menu=play_menu)

        rec_menu = bar.addMenu("&Recognition")
        self.threshold_up_action = self._action("Raise threshold", ("+", "="), lambda: self.threshold_spin.stepUp(),
                                                help_text="Raise the score threshold by 0.05", menu=rec_menu)
        self.threshold_down_action = self._action("Lower threshold", ("-",), lambda: self.threshold_spin.stepDown(),
                                                  help_text="Lower the score threshold by 0.05", menu=rec_menu)
        self.actions_action = self._action("Actions", ("A",), self._on_actions_toggled, checkable=True,
                                           help_text="Turn gesture actions on or off", menu=rec_menu)

        view_menu = bar.addMenu("&View")
        self.mirror_action = self._action("Mirror", ("M",), self._set_mirrored, checkable=True,
                                          help_text="Mirror the preview (selfie view)", menu=view_menu)
        self.depth_action = self._action("Depth", ("D",), self._set_depth_visible, checkable=True,
                                         help_text="Show or hide the depth view", menu=view_menu)
        self.fullscreen_action = self._action("Full screen", ("F", "F11"), self.toggle_fullscreen, checkable=True,
                                              help_text="Full screen on or off", menu=view_menu)
        self.leave_fullscreen_action = self._action("Leave full screen", ("Esc",), self._leave_fullscreen,
                                                    help_text="Leave full screen")

        help_menu = bar.addMenu("&Help")
        self.help_action = self._action("Shortcuts", ("H", "F1"), self.show_help,
                                        help_text="Show this list of shortcuts", menu=help_menu)

    def _build_toolbar(self) -> None:
        toolbar = self.addToolBar("Controls")
        toolbar.setMovable(False)
        toolbar.setFloatable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        source_button = QToolButton()
        source_button.setText("Source")
        source_button.setMenu(self.source_menu)
        source_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        source_button.setToolTip("Choose the source")
        self.source_button = source_button
        toolbar.addWidget(source_button)
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.model_action)
        toolbar.addSeparator()
        toolbar.addAction(self.pause_action)
        toolbar.addAction(self.record_action)
        toolbar.widgetForAction(self.record_action).setObjectName("recordButton")
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Threshold "))
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.0, 1.0)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setValue(0.5)
        self.threshold_spin.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.threshold_spin.setToolTip("Minimum score for a gesture event (+ / -)")
        self.threshold_spin.valueChanged.connect(self._on_threshold)
        # typing in the spin box takes the keys; Enter hands them back to the window's shortcuts
        self.threshold_spin.editingFinished.connect(self.video.setFocus)
        toolbar.addWidget(self.threshold_spin)
        toolbar.addAction(self.actions_action)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        for action in (self.mirror_action, self.depth_action, self.fullscreen_action, self.help_action):
            toolbar.addAction(action)
        for button in toolbar.findChildren(QToolButton):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.source_label = QLabel("source: —")
        self.model_label = QLabel("model: —")
        self.recording_label = QLabel("not recording")
        self.recording_label.setObjectName("recordingLabel")
        for label in (self.source_label, self.model_label, self.recording_label):
            status.addPermanentWidget(label)

    # --- the snapshot loop -----------------------------------------------------------------------

    def poll(self) -> None:
        """Take the newest snapshot, if there is a new one, and show it."""
        snapshot = self.controls.slot.take_new()
        if snapshot is not None:
            self.show_snapshot(snapshot)
        elif self._pending:
            self._flush_later()

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
            self._later("depth", lambda: self.depth.set_depth(s.depth, s.depth_scale))
        self.predictions.update_from(s.labels, s.probs, s.current, repaint_bars=False)
        self._later("bars", self.predictions.bars.update)
        self.timeline.set_events(s.events, s.t, repaint=False)
        self._later("timeline", self.timeline.update)
        self.hud.update_from(s, view_fps=self.view_fps())
        self._show_state(s)
        self._show_error(s.error)
        self._flush_later()
        self.snapshot_shown.emit(s)

    def _later(self, name: str, work: Callable[[], None]) -> None:
        """Queue ``work`` under ``name``, replacing older work of that name; ``_flush_later`` runs it
        when ``name`` has not run for 1/SIDE_VIEW_HZ s."""
        self._pending[name] = work

    def _flush_later(self, *, force: bool = False) -> None:
        """Run the pending work that is due: all of it when forced, else only the most overdue
        item, so the side views take turns instead of all landing on the same tick."""
        now = time.monotonic()
        due = [name for name in self._pending  # in the order they were asked for
               if force or now - self._last_run.get(name, -1e9) >= 1.0 / self.SIDE_VIEW_HZ]
        due.sort(key=lambda name: self._last_run.get(name, -1e9))  # stable: ties keep that order
        for name in due[: None if force else 1]:
            work = self._pending.pop(name)
            self._last_run[name] = now
            work()

    def catch_up(self) -> None:
        """Bring every view up to the newest snapshot now (before a screenshot)."""
        self._flush_later(force=True)
        if self.last_snapshot is not None:
            self.hud.update_from(self.last_snapshot, view_fps=self.view_fps(), force=True)

    def view_fps(self) -> float:
        """Snapshots shown per second over the last ones."""
        if len(self._shown_times) < 2:
            return 0.0
        span = self._shown_times[-1] - self._shown_times[0]
        return (len(self._shown_times) - 1) / span if span > 0 else 0.0

    def _show_state(self, s: Snapshot) -> None:
        self._syncing = True
        try:
            self._paused = s.paused
            self.pause_action.setText("Resume" if s.paused else "Pause")
            self._recording = s.recording
            self.record_action.setText("Stop recording" if s.recording else "Record")
            self.record_action.setChecked(s.recording is not None)
            if s.threshold is not None and not self.threshold_spin.hasFocus():
                self.threshold_spin.setValue(s.threshold)
            if s.actions_enabled is not None:
                self.actions_action.setChecked(s.actions_enabled)
            self.seek_bar.setVisible(s.seekable)
            if s.seekable:
                self.seek_slider.setRange(0, int(s.duration * 1000))
                if not self.seek_slider.isSliderDown():
                    self.seek_slider.setValue(int(s.position * 1000))
                self.time_label.setText(f"{_format_time(s.position)} / {_format_time(s.duration)}")
                self.step_back_button.setEnabled(s.paused)
                self.step_forward_button.setEnabled(s.paused)
        finally:
            self._syncing = False
        source = s.source or "—"
        self.source_label.setText(f"source: {source}" + ("  (ended)" if s.finished else "")
                                  + ("  (paused)" if s.paused else ""))
        self.model_label.setText(f"model: {s.model or '—'}")
        self.recording_label.setText(f"● recording {Path(s.recording).name}" if s.recording else "not recording")
        if self.recording_label.property("recording") != (s.recording is not None):
            self.recording_label.setProperty("recording", s.recording is not None)
            self.recording_label.style().unpolish(self.recording_label)
            self.recording_label.style().polish(self.recording_label)
        title = f"{self.config.title} — {s.source}" if s.source else self.config.title
        if self.windowTitle() != title:
            self.setWindowTitle(title)

    def _show_error(self, error: str | None) -> None:
        if error == self._shown_error:
            return
        self._shown_error = error
        if error is None:
            self.banner.hide()
            return
        if error != self._dismissed_error:
            self.show_message(error)

    def show_message(self, text: str) -> None:
        """Show an error in the banner and the status bar; the app keeps running."""
        self.banner_label.setText(f"⚠  {text}")
        self.banner.show()
        self.statusBar().showMessage(text, 10000)

    def error_text(self) -> str:
        """The banner's message ('' when hidden)."""
        return self.banner_label.text() if not self.banner.isHidden() else ""

    def dismiss_error(self) -> None:
        self._dismissed_error = self._shown_error
        self.banner.hide()

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
        return self._file_dialog("Choose a model checkpoint", MODEL_FILTER, lambda p: self._call("set_model", p))

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
        self.pause_action.setText("Resume" if self._paused else "Pause")
        self._call("set_paused", self._paused)

    def step(self, frames: int) -> None:
        """Step a paused replay by ``frames``; elsewhere say why it does nothing."""
        s = self.last_snapshot
        if s is None or not s.seekable or not self._paused:
            self.statusBar().showMessage("Stepping works in a paused replay (Space pauses)", 3000)
            return
        self._call("step", frames)

    def _on_seek(self, value: int) -> None:
        if not self._syncing:
            self._call("seek", value / 1000.0)

    def toggle_recording(self) -> None:
        if self._recording is not None:
            self._call("stop_recording")
            self._recording = None
            self.record_action.setChecked(False)
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        default = str(Path(self.config.recordings_dir) / f"recording-{stamp}{self.config.recording_suffix}")
        dialog = RecordDialog(default_path=default, labels=self._labels, parent=self)
        dialog.accepted.connect(lambda: self._start_recording(dialog))
        dialog.finished.connect(lambda _=0: self.record_action.setChecked(self._recording is not None))
        self._open_dialog(dialog)

    def _start_recording(self, dialog: RecordDialog) -> None:
        path = dialog.path()
        if not path:
            self.show_message("no recording path given")
            return
        self._recording = path
        self.record_action.setChecked(True)
        self._call("start_recording", path, dialog.prompt_gestures())

    def _on_threshold(self, value: float) -> None:
        if not self._syncing:
            self._call("set_threshold", float(value))

    def _on_actions_toggled(self, enabled: bool) -> None:
        self._call("set_actions_enabled", bool(enabled))

    def _set_mirrored(self, mirrored: bool) -> None:
        self.mirror_action.setChecked(mirrored)
        self.video.set_mirrored(mirrored)
        self.depth.set_mirrored(mirrored)

    def _set_depth_visible(self, visible: bool) -> None:
        self.depth_action.setChecked(visible)
        self.depth_card.setVisible(visible)
        if visible and self.last_snapshot is not None:
            s = self.last_snapshot
            self._later("depth", lambda: self.depth.set_depth(s.depth, s.depth_scale))
            self._flush_later()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        em = self.fontMetrics().horizontalAdvance("M")
        self.sidebar.setFixedWidth(min(max(int(self.width() * 0.26), em * 24), em * 40))

    def toggle_fullscreen(self, on: bool) -> None:
        if on:
            self.showFullScreen()
        else:
            self.showNormal()

    def _leave_fullscreen(self) -> None:
        if self.isFullScreen():
            self.fullscreen_action.setChecked(False)
            self.showNormal()

    def shortcuts(self) -> list[tuple[str, str]]:
        """Every keyboard shortcut of the window: (keys, what it does)."""
        return list(self._help_rows)

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
