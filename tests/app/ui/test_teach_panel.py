"""The Teach panel end to end with a fake source: record takes, delete one, train (a child process),
check, use, save, reload, revert; and cancel."""

import pytest

from app.ui.teach_panel import TeachPanel, report_text, teach_base
from fusion.labels import DEFAULT_LABELS, NO_GESTURE
from tests.app.engine_fixtures import tiny_checkpoint
from tests.app.ui.teach_screenshot import RecordingFakeEngine

@pytest.fixture
def base(tmp_path):
    return str(tiny_checkpoint(tmp_path / "skeleton.pt", fusion="none", modalities=("skeleton",)))


def panel_for(qtbot, engine, base, data_dir):
    panel = TeachPanel(engine, labels=DEFAULT_LABELS, base_model=base, data_dir=data_dir, countdown_s=0,
                       take_s=0.05, teach_args=("--epochs", "2", "--replay", "34"))
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_record_train_check_use_save_reload_revert(qtbot, qapp, tmp_path, base):
    engine = RecordingFakeEngine()
    panel = panel_for(qtbot, engine, base, tmp_path / "data")
    assert not panel.train_button.isEnabled()  # nothing to teach yet
    panel.record_takes("Wave hello", 3)
    qtbot.waitUntil(lambda: len(panel.takes) == 3 and not panel._plan, timeout=10_000)
    panel.record_takes(NO_GESTURE, 1)
    qtbot.waitUntil(lambda: len(panel.takes) == 4 and not panel._plan, timeout=10_000)
    starts = [args for name, args in engine.calls if name == "start_recording"]
    assert [prompts for _, prompts in starts] == [("wave_hello",)] * 3 + [(NO_GESTURE,)]
    assert all(not panel.take_list.item(i).icon().isNull() for i in range(4))  # a strip per take
    panel.take_list.item(0).setSelected(True)
    panel.delete_selected()
    assert [t.label for t in panel.takes] == ["wave_hello", "wave_hello", NO_GESTURE]
    assert not starts[0][0] in {str(t.path) for t in panel.takes}

    panel.train()
    assert panel.cancel_button.isEnabled() and not panel.train_button.isEnabled()
    with qtbot.waitSignal(panel.report_ready, timeout=180_000) as got:
        pass
    report = got.args[0]
    assert report["taught"] == {"wave_hello": 2} and report["new_labels"] == ["wave_hello"]
    assert set(report["estimate"]) == {"wave_hello"} and report["old_top1"] is not None
    assert panel.result.text() == report_text(report) and "Wave hello (new): 2 takes" in panel.result.text()
    assert "New gestures: learnt from copies" in panel.result.text()  # a new gesture alone

    panel.use()
    assert engine.calls[-1] == ("swap_model", (panel.model,))
    saved = panel.save("mine")
    assert saved == tmp_path / "data" / "models" / "mine.pt" and saved.is_file()
    assert len(list((tmp_path / "data" / "takes" / "mine").glob("*.mmtm"))) == 3
    panel.revert()
    assert engine.calls[-1] == ("swap_model", (None,))
    panel.close()

    again = panel_for(qtbot, engine, base, tmp_path / "data")  # the next start offers it again
    assert again.saved.count() == 1 and again.saved.currentText() == "mine"
    again.use_saved()
    assert engine.calls[-1] == ("swap_model", (str(saved),))


def test_cancel_ends_the_training_at_once(qtbot, qapp, tmp_path, base):
    engine = RecordingFakeEngine()
    panel = panel_for(qtbot, engine, base, tmp_path / "data")
    panel.record_takes("wave", 2)
    qtbot.waitUntil(lambda: len(panel.takes) == 2 and not panel._plan, timeout=10_000)
    panel.train()
    panel.cancel()
    qtbot.waitUntil(lambda: panel._process is None, timeout=10_000)
    assert panel.model is None and panel.result.text() == "training cancelled"
    assert panel.train_button.isEnabled() and not panel.use_button.isEnabled()


def test_the_window_teaches_the_running_skeleton_model_or_else_the_webcam_model(window, base):
    assert teach_base(base) == base
    assert teach_base(str(tiny_checkpoint(base.replace("skeleton.pt", "fused.pt")))).endswith("model_skeleton.pt")
    panel = window.open_teach_panel()
    assert panel.base_model.endswith("model_skeleton.pt") and panel.isVisible()
    assert any("Teach" in what for _, what in window.shortcuts())
    panel.close()


def test_the_next_start_offers_the_saved_models(qtbot, qapp, tmp_path, monkeypatch):
    from app.ui import MainWindow

    (tmp_path / "data" / "models").mkdir(parents=True)
    (tmp_path / "data" / "models" / "mine.pt").write_bytes(b"")
    monkeypatch.setenv("MMTM_LIVE_DATA", str(tmp_path / "data"))
    engine = RecordingFakeEngine()
    window = MainWindow(engine)
    qtbot.addWidget(window)
    assert "your taught models: mine" in window.statusBar().currentMessage()


def test_cancel_while_recording_drops_the_take_and_stops_the_recording(qtbot, qapp, tmp_path, base):
    engine = RecordingFakeEngine()
    panel = TeachPanel(engine, labels=DEFAULT_LABELS, base_model=base, data_dir=tmp_path / "data", countdown_s=0,
                       take_s=5.0)
    qtbot.addWidget(panel)
    panel.record_takes("wave", 3)
    assert engine.calls[-1][0] == "start_recording" and panel.cancel_button.isEnabled()
    panel.cancel()
    assert engine.calls[-1] == ("stop_recording", ()) and panel.takes == [] and panel._plan == []
    assert list(panel.takes_dir.iterdir()) == []  # the interrupted take is not kept
    assert panel.record_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_a_training_that_cannot_start_says_so(qtbot, qapp, tmp_path, base, monkeypatch):
    import sys

    engine = RecordingFakeEngine()
    panel = panel_for(qtbot, engine, base, tmp_path / "data")
    panel.record_takes("wave", 1)
    qtbot.waitUntil(lambda: len(panel.takes) == 1 and not panel._plan, timeout=10_000)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    panel.train()
    qtbot.waitUntil(lambda: panel._process is None, timeout=10_000)
    assert panel.result.text().startswith("the training could not start") and panel.model is None
    assert panel.train_button.isEnabled()
