"""Run the window: check for a display and for the libraries Qt's xcb plugin needs, create the
QApplication, show, optionally stop after N frames with a screenshot; Ctrl-C or SIGTERM closes it.
``run_engine_window`` does so around the engine (the ``demo`` and ``replay`` commands without
``--headless``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtCore import QEventLoop, QLibraryInfo, QTimer, QtMsgType, qInstallMessageHandler
from PyQt6.QtWidgets import QApplication, QWidget

from app.ctrl_c import ctrl_c_flag
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


def _platform() -> str:
    return os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()


def check_display() -> None:
    """On Linux, raise BadInput when Qt would need a display server and none is reachable, or when
    it would use the xcb plugin and a library that plugin needs is missing (Qt would abort)."""
    if not sys.platform.startswith("linux"):
        return
    platform = _platform()
    if platform in _NEEDS_DISPLAY and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise BadInput(NO_DISPLAY)
    if platform == "xcb" or (platform == "" and not os.environ.get("WAYLAND_DISPLAY")):
        check_xcb_libraries()


# The system libraries of PyQt6's xcb plugin (libqxcb.so and libQt6XcbQpa.so.6, as ldd lists them)
# and the Debian/Ubuntu packages that hold them; scripts/setup.sh installs the same ones.
XCB_PACKAGES = {
    "libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-util.so.1": "libxcb-util1", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1", "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1", "libX11.so.6": "libx11-6", "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1", "libfontconfig.so.1": "libfontconfig1", "libglib-2.0.so.0": "libglib2.0-0",
}


def xcb_plugin() -> Path:
    """PyQt6's xcb platform plugin."""
    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" / "libqxcb.so"


def missing_libraries(library: Path) -> list[str]:
    """The shared libraries ``library`` needs that the dynamic loader cannot find (``ldd``; where
    there is no ldd, the first one a ``dlopen`` in a child process names)."""
    if shutil.which("ldd"):
        listed = subprocess.run(["ldd", str(library)], capture_output=True, text=True, timeout=30, check=False).stdout
        return list(dict.fromkeys(re.findall(r"^\s*(\S+) => not found", listed, re.MULTILINE)))
    probe = "import ctypes, sys\ntry:\n    ctypes.CDLL(sys.argv[1])\nexcept OSError as e:\n    print(e)"
    said = subprocess.run([sys.executable, "-c", probe, str(library)], capture_output=True, text=True,
                          timeout=30, check=False).stdout
    return re.findall(r"^(\S+?): cannot open shared object file", said, re.MULTILINE)


def check_xcb_libraries(find_missing: Callable[[Path], list[str]] | None = None) -> None:
    """BadInput, in one line naming the missing libraries and their packages, when PyQt6's xcb
    plugin cannot load: Qt would abort the process (exit 134) blaming the plugin itself."""
    plugin = xcb_plugin()
    if not plugin.is_file():
        return  # a Qt without the plugin says so itself, without aborting
    missing = (find_missing or missing_libraries)(plugin)
    if missing:
        packages = " ".join(dict.fromkeys(XCB_PACKAGES.get(name, name) for name in missing))
        verb = "is" if len(missing) == 1 else "are"
        raise BadInput(f"the window cannot open: Qt's xcb plugin needs {', '.join(missing)}, which {verb} not "
                       f"installed; install {packages} (scripts/setup.sh does) or run with --headless")


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
        # Ctrl-C or SIGTERM closes the window as its close button does. Python runs a signal's
        # handler only when Python code runs: the timer gives it a turn. No second signal raises
        # here: an exception in a Qt slot aborts the process.
        with ctrl_c_flag(insist=False) as stop:
            watch = QTimer()
            watch.timeout.connect(lambda: stop.is_set() and window.isVisible() and window.close())
            watch.start(100)
            window.show()
            try:
                code = loop.exec()
            finally:
                watch.stop()
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
    screenshot); without a display, a screenshot renders off-screen and anything else is BadInput.
    Stopped during start-up (Ctrl-C or SIGTERM): no window, exit 0."""
    from app.engine import (
        Engine,  # here, not at the top: run_window alone needs no model library
    )

    try:
        check_display()  # before the model loads
    except BadInput:
        if screenshot is None:
            raise
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    with ctrl_c_flag() as stop:  # main's: set when Ctrl-C or SIGTERM came during start-up
        if stop.is_set():
            return 0
        engine = Engine(config)
        engine.start()
        try:
            return int(run_window(engine, WindowConfig(), screenshot=screenshot, max_frames=config.max_frames) or 0)
        finally:
            engine.shutdown()
