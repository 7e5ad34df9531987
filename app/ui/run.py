"""Run the window: check for a display, create the QApplication, show, optionally stop after N
frames with a screenshot; ``run_engine_window`` does so around the engine (the ``demo`` and
``replay`` commands without ``--headless``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtCore import QEventLoop, QtMsgType, qInstallMessageHandler
from PyQt6.QtWidgets import QApplication, QWidget

from app.snapshot import EngineControls, Snapshot
from app.ui.main_window import MainWindow
from app.ui.theme import apply_theme
from app.ui.window_config import WindowConfig
from fusion.errors import BadInput

if TYPE_CHECKING:
    from app.engine import EngineConfig

NO_DISPLAY = "no display found; run with --headless (or set QT_QPA_PLATFORM=offscreen)"
# Qt platform plugins that need a display server (on Linux the default is xcb or wayland).
_NEEDS_DISPLAY = ("", "xcb", "wayland", "wayland-egl")


# Qt messages that say nothing to a user (the offscreen plugin's, on every window).
_QUIET = ("propagateSizeHints",)


def _qt_message(mode: QtMsgType, context: object, message: str) -> None:
    if not any(text in message for text in _QUIET):
        print(message, file=sys.stderr)


def check_display() -> None:
    """On Linux, raise BadInput when Qt would need a display server and none is reachable."""
    if not sys.platform.startswith("linux"):
        return
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if platform in _NEEDS_DISPLAY and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise BadInput(NO_DISPLAY)


def save_screenshot(window: QWidget, path: str | os.PathLike) -> Path:
    """Save a PNG of the whole window (``widget.grab()``); BadInput when it cannot be written."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise BadInput(f"cannot create {path.parent}: {error.strerror}") from None
    if not window.grab().save(str(path), "PNG"):
        raise BadInput(f"cannot write the screenshot {path}")
    return path


def run_window(controls: EngineControls, config: WindowConfig = WindowConfig(), *,
               screenshot: str | None = None, max_frames: int | None = None) -> int:
    """Show the window until it is closed, or, when ``max_frames`` is given, until a snapshot of
    the ``max_frames``-th frame (``frame_index`` counts from 0) or of the source's end is shown;
    then save ``screenshot`` if asked (else when the window closes).
    Returns the exit code (0). ``controls.shutdown()`` is called once, when the window closes.
    """
    app = QApplication.instance()
    if app is None:
        check_display()  # before Qt, which would fail with a misleading xcb message
    previous_handler = qInstallMessageHandler(_qt_message)
    switch_interval = sys.getswitchinterval()
    state: dict = {"saved": False, "error": None}
    try:
        if app is None:
            app = QApplication(sys.argv[:1])
            app.setApplicationName("mmtm-live")
        apply_theme(app)
        window = MainWindow(controls, config=config)
        loop = QEventLoop()

        def save() -> None:
            if screenshot and not state["saved"]:
                state["saved"] = True
                window.catch_up()
                try:
                    save_screenshot(window, screenshot)
                except BadInput as error:
                    state["error"] = error

        def on_snapshot(snapshot: Snapshot) -> None:
            # frame_index counts from 0: frame max_frames - 1 is the max_frames-th frame
            if max_frames is not None and (snapshot.frame_index + 1 >= max_frames or snapshot.finished):
                window.snapshot_shown.disconnect(on_snapshot)
                save()
                window.close()

        def on_closed() -> None:
            save()  # a screenshot without max_frames: the window as it was closed
            loop.exit(0)

        window.snapshot_shown.connect(on_snapshot)
        window.closed.connect(on_closed)
        if config.gil_switch_interval_ms is not None:
            sys.setswitchinterval(config.gil_switch_interval_ms / 1000.0)
        window.show()
        try:
            code = loop.exec()
        finally:
            if not window.isHidden():
                window.close()
            window.deleteLater()
    finally:
        qInstallMessageHandler(previous_handler)
        sys.setswitchinterval(switch_interval)
    if state["error"] is not None:
        raise state["error"]
    return code


def run_engine_window(config: EngineConfig, *, screenshot: str | None = None) -> int:
    """Run ``Engine(config)`` in the window until it is closed (or until ``config.max_frames`` with a
    screenshot); without a display, a screenshot renders off-screen and anything else is BadInput."""
    from app.engine import Engine  # here, not at the top: run_window alone needs no model library

    try:
        check_display()  # before the model loads
    except BadInput:
        if screenshot is None:
            raise
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    engine = Engine(config)
    engine.start()
    try:
        return int(run_window(engine, WindowConfig(), screenshot=screenshot, max_frames=config.max_frames) or 0)
    finally:
        engine.shutdown()
