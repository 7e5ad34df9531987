"""run_window with a fake engine, screenshots, and the no-display message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt6.QtGui import QImage

import app.ui.run as run
from app.ui import WindowConfig, run_window, save_screenshot
from fusion.errors import BadInput
from tests.app.ui.fake_engine import FakeEngine


def test_run_window_saves_a_screenshot_after_n_frames(qapp, tmp_path):
    engine = FakeEngine()
    engine.start(fps=60.0, width=160, height=120)
    shot = tmp_path / "shots" / "window.png"
    shown = []
    try:
        code = run_window(engine, WindowConfig(refresh_ms=5), screenshot=str(shot), max_frames=6)
        shown = engine.names()
    finally:
        engine.stop()
        engine.join(5)
    assert code == 0
    assert shot.stat().st_size > 1000
    image = QImage(str(shot))
    assert not image.isNull() and image.width() >= 640 and image.height() >= 360
    assert shown.count("shutdown") == 1
    # the window showed a real frame: the screenshot is not one flat colour
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 29)}
    assert len(colours) > 20


def test_run_window_stops_when_the_source_ends(qapp, tmp_path):
    engine = FakeEngine()
    engine.start(fps=60.0, width=160, height=120, frames=3)  # ends long before max_frames
    try:
        from app.snapshot import Snapshot

        engine.join(5)
        engine.slot.put(Snapshot(frame_index=4, finished=True))
        code = run_window(engine, WindowConfig(refresh_ms=5), screenshot=str(tmp_path / "end.png"), max_frames=1000)
    finally:
        engine.stop()
    assert code == 0 and (tmp_path / "end.png").stat().st_size > 0


def test_save_screenshot_to_an_unwritable_place_is_bad_input(qtbot, tmp_path):
    from PyQt6.QtWidgets import QLabel

    label = QLabel("x")
    qtbot.addWidget(label)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(BadInput, match="cannot"):
        save_screenshot(label, blocker / "sub" / "x.png")


@pytest.mark.parametrize("platform", [None, "xcb", "wayland"])
def test_no_display_is_a_clear_bad_input(monkeypatch, platform):
    monkeypatch.setattr(run.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if platform is None:
        monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    else:
        monkeypatch.setenv("QT_QPA_PLATFORM", platform)
    created = []
    monkeypatch.setattr(run, "QApplication", type("NoApp", (), {"instance": staticmethod(lambda: None),
                                                                "__init__": lambda self, *a: created.append(a)}))
    with pytest.raises(BadInput) as caught:
        run_window(FakeEngine(), WindowConfig(), screenshot=None, max_frames=1)
    assert str(caught.value) == "no display found; run with --headless (or set QT_QPA_PLATFORM=offscreen)"
    assert created == []  # failed before Qt could print its xcb message


def test_a_display_or_offscreen_passes_the_check(monkeypatch):
    monkeypatch.setattr(run, "missing_libraries", lambda plugin: [])  # whatever this machine lacks
    monkeypatch.setattr(run.sys, "platform", "linux")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    run.check_display()
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    run.check_display()
    monkeypatch.setattr(run.sys, "platform", "darwin")
    monkeypatch.delenv("QT_QPA_PLATFORM")
    run.check_display()


def _fake_xcb_desktop(monkeypatch, missing: list[str], platform: str | None = None) -> list:
    """A Linux desktop with a display, on which the loader cannot find ``missing``; the calls seen."""
    monkeypatch.setattr(run.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if platform is None:
        monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    else:
        monkeypatch.setenv("QT_QPA_PLATFORM", platform)
    asked = []
    monkeypatch.setattr(run, "missing_libraries", lambda plugin: asked.append(plugin) or list(missing))
    return asked


@pytest.mark.parametrize("platform", [None, "xcb"])
def test_a_missing_xcb_library_is_one_line_naming_it_and_its_package_before_qt_starts(monkeypatch, platform):
    asked = _fake_xcb_desktop(monkeypatch, ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"], platform)
    created = []
    monkeypatch.setattr(run, "QApplication", type("NoApp", (), {"instance": staticmethod(lambda: None),
                                                                "__init__": lambda self, *a: created.append(a)}))
    with pytest.raises(BadInput) as caught:
        run_window(FakeEngine(), WindowConfig(), screenshot=None, max_frames=1)
    message = str(caught.value)
    assert "\n" not in message and "libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert "install libxcb-icccm4 libxcb-keysyms1" in message and "--headless" in message
    assert asked == [run.xcb_plugin()] and created == []  # Qt never started: no abort


def test_offscreen_and_wayland_need_no_xcb_library(monkeypatch):
    for platform in ("offscreen", "wayland", "minimal"):
        asked = _fake_xcb_desktop(monkeypatch, ["libxcb-icccm.so.4"], platform)
        run.check_display()
        assert asked == []
    asked = _fake_xcb_desktop(monkeypatch, ["libxcb-icccm.so.4"])
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")  # a Wayland session: Qt picks wayland
    run.check_display()
    assert asked == []


def test_a_screenshot_without_the_xcb_libraries_renders_off_screen(tmp_path, capsys, monkeypatch):
    import main
    from tests.app.engine_fixtures import tiny_checkpoint, write_moving

    _fake_xcb_desktop(monkeypatch, ["libxcb-keysyms.so.1"], "xcb")
    ckpt = tiny_checkpoint(tmp_path / "m.pt")
    rec = write_moving(tmp_path / "r.mmtm", n=20)
    png = tmp_path / "shot.png"
    code = main.main(["replay", str(rec), "--model", str(ckpt), "--backend", "eager", "--screenshot", str(png),
                      "--max-frames", "5"])
    assert code == 0, capsys.readouterr().err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and os.environ["QT_QPA_PLATFORM"] == "offscreen"


def test_ldd_and_dlopen_agree_on_what_the_xcb_plugin_lacks(monkeypatch):
    # on this machine or any: the first library ldd finds missing is the one dlopen stops at
    plugin = run.xcb_plugin()
    if not plugin.is_file():
        pytest.skip("this PyQt6 has no xcb plugin")
    by_ldd = run.missing_libraries(plugin)
    monkeypatch.setattr(run.shutil, "which", lambda name: None)
    by_dlopen = run.missing_libraries(plugin)
    assert by_dlopen == by_ldd[:1]
    offscreen = plugin.with_name("libqoffscreen.so")
    assert run.missing_libraries(offscreen) == []


def test_every_xcb_library_the_window_checks_is_installed_by_setup():
    setup = (Path(__file__).resolve().parents[3] / "scripts" / "setup.sh").read_text()
    for soname, package in run.XCB_PACKAGES.items():
        assert f"{soname}:{package}" in setup


def test_a_display_without_the_xcb_libraries_is_exit_2_not_an_abort_in_a_fresh_process(tmp_path):
    # the real plugin on this machine: when the loader lacks any of its libraries, Qt would abort
    # (exit 134, blaming the plugin); the command says what is missing instead
    if not run.xcb_plugin().is_file() or not run.missing_libraries(run.xcb_plugin()):
        pytest.skip("this machine has every library of the xcb plugin")
    root = Path(__file__).resolve().parents[3]
    env = {**{k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")},
           "DISPLAY": ":99", "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "main.py", "replay", "sample", "--max-frames", "5"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Qt's xcb plugin needs" in done.stderr


def test_no_display_in_a_fresh_process_says_so_in_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = ("from app.ui import run_window, WindowConfig\n"
            "from tests.app.ui.fake_engine import FakeEngine\n"
            "from fusion.errors import BadInput\n"
            "try:\n    run_window(FakeEngine(), WindowConfig(), screenshot=None, max_frames=1)\n"
            "except BadInput as e:\n    print('BadInput:', e)\n")
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "BadInput: " + run.NO_DISPLAY
    assert "xcb" not in done.stderr


def test_hidpi_screenshot_has_twice_the_pixels(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2"}
    shot = tmp_path / "hidpi.png"
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-m", "tests.app.ui.fake_engine", "--screenshot", str(shot),
                           "--first", "0", "--frames", "2", "--width", "160", "--height", "120"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (2560, 1440)  # 1280x720 logical pixels at scale 2
    assert "propagateSizeHints" not in done.stderr  # the offscreen plugin's noise is filtered


# --- run_engine_window: the demo and replay commands without --headless --------------------------

def test_replay_in_the_window_saves_a_screenshot(tmp_path, capsys, monkeypatch):
    import main
    from tests.app.engine_fixtures import tiny_checkpoint, write_moving

    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")  # no display: a screenshot still renders, off-screen
    ckpt = tiny_checkpoint(tmp_path / "m.pt")
    rec = write_moving(tmp_path / "r.mmtm", n=30)
    png = tmp_path / "shot.png"
    code = main.main(["replay", str(rec), "--model", str(ckpt), "--backend", "eager", "--screenshot", str(png),
                      "--max-frames", "10"])
    assert code == 0, capsys.readouterr().err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"


def test_no_display_without_headless_is_the_one_message_before_the_model_loads(tmp_path, capsys, monkeypatch):
    import main
    from tests.app.engine_fixtures import write_moving

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(run.sys, "platform", "linux")
    rec = write_moving(tmp_path / "r.mmtm", n=5)
    # a missing model would be the error if the model loaded first
    assert main.main(["replay", str(rec), "--model", str(tmp_path / "none.pt")]) == 2
    assert capsys.readouterr().err == f"mmtm-live: {run.NO_DISPLAY}\n"


def test_sigterm_closes_the_window_and_shuts_the_engine_down(qapp):
    import signal
    import threading
    import time

    engine = FakeEngine()
    engine.start(fps=60.0, width=160, height=120)

    def terminate():
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    sender = threading.Thread(target=terminate)
    sender.start()
    try:
        started = time.monotonic()
        code = run_window(engine, WindowConfig(refresh_ms=5))  # no max_frames: only a close ends it
        took = time.monotonic() - started
        names = engine.names()
    finally:
        sender.join(5)
        engine.stop()
        engine.join(5)
    assert code == 0 and names.count("shutdown") == 1 and took < 5
