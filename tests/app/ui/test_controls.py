"""Every control and shortcut calls the matching EngineControls method."""

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QFileDialog, QInputDialog

from app.snapshot import Snapshot
from app.ui.help_dialog import HelpDialog
from app.ui.record_dialog import RecordDialog
from tests.app.ui.conftest import halves, publish

Key = Qt.Key


def test_space_pauses_and_resumes(qtbot, window, engine):
    qtbot.keyClick(window, Key.Key_Space)
    assert engine.calls[-1] == ("set_paused", (True,))
    assert window.commands.pause.text() == "Resume"
    qtbot.keyClick(window, Key.Key_Space)
    assert engine.calls[-1] == ("set_paused", (False,))


def test_arrows_step_only_in_a_paused_replay(qtbot, window, engine):
    publish(qtbot, window, engine, Snapshot(frame_index=1, seekable=False, paused=True))
    qtbot.keyClick(window, Key.Key_Right)
    assert "step" not in engine.names()
    publish(qtbot, window, engine, Snapshot(frame_index=2, seekable=True, paused=False, duration=30.0))
    qtbot.keyClick(window, Key.Key_Right)
    assert "step" not in engine.names()
    publish(qtbot, window, engine, Snapshot(frame_index=3, seekable=True, paused=True, position=5.0, duration=30.0))
    qtbot.keyClick(window, Key.Key_Right)
    qtbot.keyClick(window, Key.Key_Left)
    assert [c for c in engine.calls if c[0] == "step"] == [("step", (1,)), ("step", (-1,))]
    window.seek_bar.step_forward_button.click()
    assert engine.calls[-1] == ("step", (1,))


def test_seek_slider_follows_the_replay_and_seeks(qtbot, window, engine):
    publish(qtbot, window, engine, Snapshot(frame_index=1))
    assert window.seek_bar.isHidden()
    publish(qtbot, window, engine, Snapshot(frame_index=2, seekable=True, position=12.5, duration=60.0))
    assert window.seek_bar.isVisible()
    assert window.seek_bar.slider.maximum() == 60000 and window.seek_bar.slider.value() == 12500
    assert "seek" not in engine.names()  # following the replay does not seek
    assert window.seek_bar.time_label.text() == "0:12.5 / 1:00.0"
    window.seek_bar.slider.setValue(30000)  # what a release after dragging does
    assert engine.calls[-1] == ("seek", (30.0,))


def test_o_opens_a_file_dialog_and_plays_the_file(qtbot, window, engine, tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not really a video")
    qtbot.keyClick(window, Key.Key_O)
    dialog = window.dialog
    assert isinstance(dialog, QFileDialog)
    dialog.fileSelected.emit(str(video))
    assert engine.calls[-1] == ("open_source", (str(video),))


def test_model_dialog_and_default_model(qtbot, window, engine, tmp_path):
    qtbot.keyClick(window, Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    dialog = window.dialog
    assert isinstance(dialog, QFileDialog)
    dialog.fileSelected.emit(str(tmp_path / "model.pt"))
    assert engine.calls[-1] == ("swap_model", (str(tmp_path / "model.pt"),))
    window.commands.default_model.trigger()
    assert engine.calls[-1] == ("swap_model", (None,))


@pytest.mark.parametrize("key, source", [("realsense", "realsense"), ("webcam", "webcam"), ("sample", "sample")])
def test_source_menu_opens_sources(window, engine, key, source):
    window.commands.sources[key].trigger()
    assert engine.calls[-1] == ("open_source", (source,))


def test_source_by_serial_and_index(window, engine):
    window.commands.sources["realsense:"].trigger()
    dialog = window.dialog
    assert isinstance(dialog, QInputDialog)
    dialog.setTextValue("123456789")
    dialog.accept()
    assert engine.calls[-1] == ("open_source", ("realsense:123456789",))
    window.commands.sources["webcam:"].trigger()
    window.dialog.setTextValue("1")
    window.dialog.accept()
    assert engine.calls[-1] == ("open_source", ("webcam:1",))


def test_r_records_with_label_prompts_and_stops(qtbot, window, engine, tmp_path):
    qtbot.keyClick(window, Key.Key_R)
    dialog = window.dialog
    assert isinstance(dialog, RecordDialog)
    assert "start_recording" not in engine.names()  # nothing before the dialog is accepted
    path = str(tmp_path / "take1")
    dialog.path_edit.setText(path)
    dialog.prompt_box.setChecked(True)
    for i in range(dialog.gesture_list.count()):  # keep only the first two gestures
        if i >= 2:
            dialog.gesture_list.item(i).setCheckState(Qt.CheckState.Unchecked)
    dialog.accept()
    assert engine.calls[-1] == ("start_recording", (path, ("thumbs_up", "thumbs_down")))
    assert window.commands.record.isChecked()
    qtbot.keyClick(window, Key.Key_R)
    assert engine.calls[-1] == ("stop_recording", ())
    assert not window.commands.record.isChecked()


def test_recording_without_prompts_and_cancel(qtbot, window, engine, tmp_path):
    qtbot.keyClick(window, Key.Key_R)
    window.dialog.reject()
    assert "start_recording" not in engine.names()
    assert not window.commands.record.isChecked()
    qtbot.keyClick(window, Key.Key_R)
    window.dialog.path_edit.setText(str(tmp_path / "take2"))
    window.dialog.accept()
    assert engine.calls[-1] == ("start_recording", (str(tmp_path / "take2"), ()))


def test_threshold_spin_box_and_keys(qtbot, window, engine):
    window.control_bar.threshold_spin.setValue(0.7)
    assert engine.calls[-1] == ("set_threshold", (pytest.approx(0.7),))
    qtbot.keyClick(window, Key.Key_Minus)
    assert engine.calls[-1] == ("set_threshold", (pytest.approx(0.65),))
    qtbot.keyClick(window, Key.Key_Plus)
    assert engine.calls[-1] == ("set_threshold", (pytest.approx(0.7),))
    n = len(engine.calls)
    publish(qtbot, window, engine, Snapshot(frame_index=1, threshold=0.4, actions_enabled=True))
    assert window.control_bar.threshold_spin.value() == pytest.approx(0.4)  # follows the engine ...
    assert window.commands.gesture_actions.isChecked()
    assert len(engine.calls) == n  # ... without calling it back


def test_a_toggles_actions(qtbot, window, engine):
    qtbot.keyClick(window, Key.Key_A)
    assert engine.calls[-1] == ("set_actions_enabled", (True,))
    qtbot.keyClick(window, Key.Key_A)
    assert engine.calls[-1] == ("set_actions_enabled", (False,))


def test_f_toggles_full_screen(qtbot, window):
    qtbot.keyClick(window, Key.Key_F)
    qtbot.waitUntil(window.isFullScreen, timeout=2000)
    qtbot.keyClick(window, Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=2000)
    assert not window.commands.fullscreen.isChecked()


@pytest.mark.parametrize("key", [Key.Key_H, Key.Key_F1])
def test_help_lists_every_shortcut(qtbot, window, key):
    qtbot.keyClick(window, key)
    dialog = window.dialog
    assert isinstance(dialog, HelpDialog)
    rows = dialog.shortcuts()
    keys = " ".join(k for k, _ in rows)
    for name in ("Space", "R", "O", "Q", "F", "M", "D", "H", "F1", "Left", "Right", "A", "Ctrl+M", "Esc"):
        assert name in keys.replace(",", " ").split(), name
    assert len(rows) == len(window.shortcuts())


def test_q_quits_and_shuts_the_engine_down_once(qtbot, window, engine):
    publish(qtbot, window, engine, Snapshot(frame_index=1, color=halves()))
    qtbot.keyClick(window, Key.Key_Q)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)
    assert engine.names().count("shutdown") == 1
    assert not window.timer.isActive()
    window.close()
    assert engine.names().count("shutdown") == 1


def test_shortcuts_come_back_after_typing_a_threshold(qtbot, window, engine):
    window.control_bar.threshold_spin.setFocus()
    qtbot.waitUntil(window.control_bar.threshold_spin.hasFocus, timeout=2000)
    window.control_bar.threshold_spin.selectAll()
    qtbot.keyClicks(window.control_bar.threshold_spin, "0.8")
    qtbot.keyClick(window.control_bar.threshold_spin, Key.Key_Return)
    assert engine.calls[-1] == ("set_threshold", (pytest.approx(0.8),))
    assert not window.control_bar.threshold_spin.hasFocus()
    qtbot.keyClick(window, Key.Key_Space)
    assert engine.calls[-1] == ("set_paused", (True,))
