"""Playing a take back in the Teach panel: its frames in order at its own frame rate, the skeleton
over its colour images (or on a dark background), stopped by another take, a deletion, a recording,
a training or closing, and a damaged take is one line, not an exception."""

import shutil
import sys
import time

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor

from app.ui.take_player import BACKGROUND, TakePlayer
from app.ui.teach_panel import TeachPanel
from fusion.data.recording import RecordingReader, RecordingWriter
from fusion.data.sample import Skeleton
from fusion.labels import DEFAULT_LABELS
from tests.app.ui.teach_screenshot import RecordingFakeEngine

RED = (220, 20, 20)


def hand_at(x: float, y: float = 0.5) -> Skeleton:
    """A hand whose 21 joints lie on a horizontal line from (x, y) to (x + 0.4, y)."""
    joints = np.zeros((21, 3), np.float32)
    joints[:, 0], joints[:, 1] = x + np.linspace(0, 0.4, 21), y
    return Skeleton(joints)


def write_take(path, frames: int, *, fps: float | None, colour: bool = False, period_ms: float = 33.3):
    """A take of ``frames`` frames, its hand moving right; red colour images too with ``colour``."""
    with RecordingWriter(path, lossless=True) as rec:
        info = {"width": 64, "height": 48, **({"fps": fps} if fps else {})}
        for stream in ("color", "skeleton") if colour else ("skeleton",):
            rec.set_stream(stream, info)
        for i in range(frames):
            host_ns = 10**9 + int(i * period_ms * 1e6)
            if colour:
                rec.write("color", np.full((48, 64, 3), RED, np.uint8), index=i, host_ns=host_ns)
            rec.write("skeleton", hand_at(0.05 + 0.1 * i), index=i, host_ns=host_ns)
    return path


def pixel(player: TakePlayer, x: int, y: int) -> tuple[int, int, int]:
    color = QColor(player.view.pixmap().toImage().pixel(x, y))
    return color.red(), color.green(), color.blue()


def play_to_the_end(qtbot, player, path):
    shown, images = [], []

    def on_frame(n):
        shown.append((n, time.monotonic()))
        images.append(player.view.pixmap().toImage())

    player.frame_shown.connect(on_frame)
    with qtbot.waitSignal(player.finished, timeout=5000):
        assert player.play(path) and player.playing
    return shown, images


@pytest.mark.parametrize("fps, period_ms", [(20.0, 50.0), (None, 40.0)])  # from the stream, else the clock
def test_a_take_plays_every_frame_in_order_at_its_own_frame_rate_then_stops(qtbot, qapp, tmp_path, fps, period_ms):
    player = TakePlayer()
    qtbot.addWidget(player)
    path = write_take(tmp_path / "take.mmtm", 6, fps=fps, period_ms=period_ms)
    shown, images = play_to_the_end(qtbot, player, path)
    assert [n for n, _ in shown] == list(range(6)) and player.shown == 5
    assert player.fps == pytest.approx(1000 / period_ms) and player.timer.interval() == round(period_ms)
    assert shown[-1][1] - shown[0][1] >= 5 * period_ms / 1000 * 0.9  # paced, not all at once
    assert all(a != b for a, b in zip(images, images[1:]))  # the hand moves: each frame is another picture
    assert not player.playing and player._reader is None  # stopped, the file closed
    assert player.caption.text() == f"played: 6 frames at {1000 / period_ms:.3g} fps"
    assert pixel(player, 2, 2) == QColor(BACKGROUND).getRgb()[:3]  # skeleton only: a dark background
    assert pixel(player, 168, 90)[2] > 200 and pixel(player, 72, 90)[2] < 100  # the last hand: 0.55 .. 0.95


def test_the_skeleton_is_drawn_over_the_colour_images(qtbot, qapp, tmp_path):
    player = TakePlayer()
    qtbot.addWidget(player)
    path = write_take(tmp_path / "take.mmtm", 3, fps=30.0, colour=True)
    shown, _ = play_to_the_end(qtbot, player, path)
    assert len(shown) == 3 and player.timer.interval() == 33
    r, g, b = pixel(player, 120, 30)  # above the hand: the image
    assert r > 180 and g < 80 and b < 80
    r, g, b = pixel(player, 120, 90)  # on the hand's line
    assert b > 200 and r < 160


def test_a_damaged_take_is_one_line_not_an_exception(qtbot, qapp, tmp_path):
    player = TakePlayer()
    qtbot.addWidget(player)
    lines = []
    player.failed.connect(lines.append)
    garbage = tmp_path / "garbage.mmtm"
    garbage.write_bytes(b"\x00not a take\xff" * 50)
    assert not player.play(garbage)
    assert lines == ["garbage.mmtm is not an mmtm recording (unknown file header)"]
    assert not player.playing and player.path is None

    good = write_take(tmp_path / "take.mmtm", 5, fps=30.0)
    with RecordingReader(good) as reader:
        offset = int(reader.table["offset"][2])
    damaged = tmp_path / "damaged.mmtm"
    shutil.copyfile(good, damaged)
    with open(damaged, "r+b") as f:  # frame 2's payload: its checksum no longer matches
        f.seek(offset + 20)
        f.write(b"\xde\xad\xbe\xef")
    assert player.play(damaged)  # its first frames are sound
    qtbot.waitUntil(lambda: len(lines) == 2, timeout=3000)
    assert player.shown == -1 and not player.playing and player._reader is None
    assert len(lines) == 2 and "\n" not in lines[1] and lines[1].startswith("damaged.mmtm: frame 2")


def panel_with_takes(qtbot, tmp_path, count=2):
    panel = TeachPanel(RecordingFakeEngine(), labels=DEFAULT_LABELS, base_model="", data_dir=tmp_path / "data",
                       countdown_s=0, take_s=0.05)
    qtbot.addWidget(panel)
    panel.show()
    panel.record_takes("wave", count)
    qtbot.waitUntil(lambda: len(panel.takes) == count and not panel._plan, timeout=10_000)
    return panel


def test_the_panel_plays_the_selected_take_and_deleting_it_stops_it(qtbot, qapp, tmp_path):
    panel = panel_with_takes(qtbot, tmp_path)
    first, second = (t.path for t in panel.takes)
    panel.take_list.item(0).setSelected(True)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert panel.player.playing and panel.player.path == first and panel.player.fps == 30.0
    qtbot.waitUntil(lambda: panel.player.shown >= 2, timeout=3000)
    panel.delete_selected()
    assert not first.exists() and not panel.player.playing
    assert panel.player.path is None and panel.player._reader is None and panel.player.caption.text() == ""

    item = panel.take_list.item(0)  # the second take, played by a double-click
    viewport, centre = panel.take_list.viewport(), panel.take_list.visualItemRect(item).center()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=centre)  # a double-click's first click
    assert not panel.player.playing
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=centre)
    assert panel.player.playing and panel.player.path == second and panel.player.shown == 0
    with qtbot.waitSignal(panel.player.finished, timeout=5000):
        pass
    assert panel.player.shown == 23 and panel.player.caption.text() == "played: 24 frames at 30 fps"


def test_another_take_a_recording_a_training_or_closing_stops_the_playing(qtbot, qapp, tmp_path, monkeypatch):
    panel = panel_with_takes(qtbot, tmp_path)
    first, second = (t.path for t in panel.takes)
    assert panel.player.play(first)
    qtbot.waitUntil(lambda: panel.player.shown >= 2, timeout=3000)
    old_reader = panel.player._reader
    assert panel.player.play(second) and panel.player.path == second and panel.player.shown == 0
    assert old_reader._file.closed

    panel.record_takes("wave", 1)
    assert not panel.player.playing and not panel.play_button.isEnabled()
    qtbot.waitUntil(lambda: len(panel.takes) == 3 and not panel._plan, timeout=10_000)

    assert panel.player.play(second)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))  # a training that ends at once
    panel.train()
    assert not panel.player.playing
    qtbot.waitUntil(lambda: panel._process is None, timeout=10_000)

    assert panel.player.play(second)
    panel.close()
    assert not panel.player.playing and panel.player._reader is None and not panel.work.exists()


def test_a_hand_of_other_than_21_joints_is_not_drawn_and_breaks_nothing(qtbot, qapp, tmp_path):
    from app.ui.teach_panel import take_strip

    path = tmp_path / "odd.mmtm"
    with RecordingWriter(path) as rec:
        rec.set_stream("skeleton", {"width": 64, "height": 48, "fps": 30.0})
        for i in range(2):
            rec.write("skeleton", Skeleton(np.full((5, 3), 0.5, np.float32)), index=i, host_ns=10**9 + i)
    player = TakePlayer()
    qtbot.addWidget(player)
    shown, _ = play_to_the_end(qtbot, player, path)
    assert len(shown) == 2 and pixel(player, 120, 90) == QColor(BACKGROUND).getRgb()[:3]
    assert not take_strip(path).isNull()
