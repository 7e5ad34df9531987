"""The window's commands: one QAction each, with its keyboard shortcuts, its menu entry, a tooltip
naming the keys and a row in the shortcuts list (H). The menus are File, Playback, Recognition,
View and Help; the shortcuts work in full screen too, without the menu bar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QMenu

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


class WindowCommands:
    """Every menu entry and shortcut of ``window``, each calling one of the window's methods."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self._help_rows: list[tuple[str, str]] = []
        add = self._add
        bar = window.menuBar()

        file_menu = bar.addMenu("&File")
        self.source_menu = QMenu("Source", window)
        self.sources = {
            "realsense": add("RealSense", (), lambda: window.open_source("realsense"),
                             help_text="Open the first RealSense camera", menu=self.source_menu),
            "realsense:": add("RealSense by serial…", (), window.ask_realsense_serial,
                              help_text="Open a RealSense camera by its serial number", menu=self.source_menu),
            "webcam": add("Webcam", (), lambda: window.open_source("webcam"),
                          help_text="Open the default webcam", menu=self.source_menu),
            "webcam:": add("Webcam by index…", (), window.ask_webcam_index,
                           help_text="Open a webcam by its index", menu=self.source_menu),
            "sample": add("Bundled sample", (), lambda: window.open_source("sample"),
                          help_text="Play the bundled sample recording", menu=self.source_menu),
        }
        self.source_menu.addSeparator()
        file_menu.addMenu(self.source_menu)
        self.open_file = add("Open file…", ("O",), window.open_file_dialog,
                             help_text="Open a recording or video file", menu=file_menu)
        self.source_menu.addAction(self.open_file)
        file_menu.addSeparator()
        self.choose_model = add("Choose model…", ("Ctrl+M",), window.open_model_dialog,
                                help_text="Choose the model checkpoint", menu=file_menu)
        self.default_model = add("Default model", (), window.use_default_model,
                                 help_text="Use the default model of the source", menu=file_menu)
        file_menu.addSeparator()
        self.quit = add("Quit", ("Q", "Ctrl+Q"), window.close, help_text="Quit", menu=file_menu)

        play_menu = bar.addMenu("&Playback")
        self.pause = add("Pause", ("Space",), window.toggle_pause, help_text="Pause or resume", menu=play_menu)
        self.step_back = add("Step back", ("Left",), lambda: window.step(-1),
                             help_text="Step back one frame (paused replay)", menu=play_menu)
        self.step_forward = add("Step forward", ("Right",), lambda: window.step(1),
                                help_text="Step forward one frame (paused replay)", menu=play_menu)
        self.record = add("Record", ("R",), window.toggle_recording, checkable=True,
                          help_text="Start or stop recording", menu=play_menu)

        rec_menu = bar.addMenu("&Recognition")
        self.threshold_up = add("Raise threshold", ("+", "="), window.raise_threshold,
                                help_text="Raise the score threshold by 0.05", menu=rec_menu)
        self.threshold_down = add("Lower threshold", ("-",), window.lower_threshold,
                                  help_text="Lower the score threshold by 0.05", menu=rec_menu)
        self.gesture_actions = add("Actions", ("A",), window.set_actions_enabled, checkable=True,
                                   help_text="Turn gesture actions on or off", menu=rec_menu)
        self.teach = add("Teach…", ("Ctrl+T",), window.open_teach_panel,
                         help_text="Teach it a gesture of your own: record takes, train, use", menu=rec_menu)

        view_menu = bar.addMenu("&View")
        self.mirror = add("Mirror", ("M",), window.set_mirrored, checkable=True,
                          help_text="Mirror the preview (selfie view)", menu=view_menu)
        self.depth = add("Depth", ("D",), window.set_depth_visible, checkable=True,
                         help_text="Show or hide the depth view", menu=view_menu)
        self.fullscreen = add("Full screen", ("F", "F11"), window.toggle_fullscreen, checkable=True,
                              help_text="Full screen on or off", menu=view_menu)
        self.leave_fullscreen = add("Leave full screen", ("Esc",), window.leave_fullscreen,
                                    help_text="Leave full screen")

        help_menu = bar.addMenu("&Help")
        self.help = add("Shortcuts", ("H", "F1"), window.show_help,
                        help_text="Show this list of shortcuts", menu=help_menu)

    def shortcuts(self) -> list[tuple[str, str]]:
        """Every keyboard shortcut: (keys, what it does), in menu order."""
        return list(self._help_rows)

    def _add(self, text: str, keys: tuple[str | QKeySequence.StandardKey, ...], slot: Callable,
             *, help_text: str, checkable: bool = False, menu: QMenu | None = None) -> QAction:
        action = QAction(text, self._window)
        sequences = [QKeySequence(k) for k in keys]
        action.setShortcuts(sequences)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        action.setToolTip(f"{help_text} ({', '.join(s.toString() for s in sequences)})" if keys else help_text)
        action.setStatusTip(help_text)
        action.triggered.connect(slot)  # user activation only; setChecked() from snapshots stays quiet
        self._window.addAction(action)  # shortcuts work in full screen, without the menu bar
        if menu is not None:
            menu.addAction(action)
        if keys:
            self._help_rows.append((", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in sequences),
                                    help_text))
        return action
