"""scripts/finetune_on_readings.py: a skeleton model fine-tuned on MediaPipe's readings of rendered held hands."""

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import load_script

MODEL = Path(__file__).resolve().parents[2] / "assets" / "model_skeleton.pt"


@pytest.fixture
def finetune_on_readings(monkeypatch):
    return load_script("finetune_on_readings", monkeypatch)


def test_each_reading_is_held_still_twice_and_the_negatives_more(finetune_on_readings):
    from fusion.checkpoint import read_checkpoint

    meta, _ = read_checkpoint(MODEL)
    rng = np.random.default_rng(0)
    read = np.c_[rng.uniform(0.3, 0.7, (3 * 21, 2)), rng.normal(0, 0.02, 3 * 21)].reshape(3, 21, 3).astype(np.float32)
    readings = {"read": read, "hand_read": np.array(["Right", "Left", "Right"]),
                "labels": np.array(["fist", "no_gesture", "victory"])}
    clips = finetune_on_readings.reading_clips(readings, meta.config.input, meta.labels, 20, negatives=5)
    names = [meta.labels[i] for i in clips.label]
    assert names == ["fist"] * 2 + ["no_gesture"] * 5 + ["victory"] * 2
    assert clips.skeleton.shape[:2] == (9, 20) and (clips.active == [0, 20]).all()
    held = clips.skeleton[0].astype(np.float32)  # (T, C, J): the same hand every frame, up to the jitter
    assert np.abs(held[1:, :2] - held[:1, :2]).max() < 0.1 and np.abs(held[1:, :2] - held[:1, :2]).max() > 0
    assert (held[:, 7] == 1).all()  # present throughout


def test_a_short_fine_tune_writes_a_model_with_the_base_settings(finetune_on_readings, tmp_path):
    pytest.importorskip("mediapipe")
    from fusion.checkpoint import read_checkpoint

    out = tmp_path / "m.pt"
    assert finetune_on_readings.main(["--model", str(MODEL), "--out", str(out), "--per-label", "1", "--replay", "40",
                                      "--epochs", "1"]) == 0
    meta, _ = read_checkpoint(out)
    base, _ = read_checkpoint(MODEL)
    assert meta.labels == base.labels and meta.training["online"] == base.training["online"]


def test_bad_arguments_are_one_line_and_exit_2(finetune_on_readings, capsys, tmp_path):
    assert finetune_on_readings.main(["--model", str(MODEL), "--out", str(tmp_path / "m.pt"), "--replay", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("finetune_on_readings: ") and "\n" not in err
    default = Path(__file__).resolve().parents[2] / "assets" / "model_default.pt"
    assert finetune_on_readings.main(["--model", str(default), "--out", str(tmp_path / "m.pt")]) == 2
    assert "skeleton-only" in capsys.readouterr().err
    assert finetune_on_readings.main(["--model", str(MODEL), "--out", str(tmp_path / "m.pt"),
                                      "--bundle", str(tmp_path / "none.task")]) == 2  # before any clip is made
    assert "none.task" in capsys.readouterr().err and not (tmp_path / "m.pt").exists()
