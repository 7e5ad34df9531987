"""scripts/rendered_readings.py: skeleton models on MediaPipe's reading of rendered hands and on the true landmarks."""

import json
from pathlib import Path

import pytest

from tests.conftest import load_script

MODEL = Path(__file__).resolve().parents[2] / "assets" / "model_skeleton.pt"


@pytest.fixture
def rendered_readings(monkeypatch):
    return load_script("rendered_readings", monkeypatch)


def test_the_shipped_webcam_model_on_both_readings_of_a_few_rendered_hands(rendered_readings, capsys):
    pytest.importorskip("mediapipe")
    assert rendered_readings.main(["--per-label", "2", "--model", str(MODEL), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    found, (model,) = report["found"], report["models"]
    assert 0 < found <= report["shown"] <= 14
    assert sum(c["of"] for c in model["per_label"].values()) == model["of"] == found
    assert all(max(c["truth"], c["read"], c["read_true_z"]) <= c["of"] for c in model["per_label"].values())
    assert model["truth"] >= 0.7 * found  # the generator's own landmarks: the model's home ground
    assert 0.0 < report["depth"]["slope"] < 1.5 and report["depth"]["error_std"] > 0.0


def test_a_bad_count_is_one_line_and_exit_2(rendered_readings, capsys):
    assert rendered_readings.main(["--per-label", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rendered_readings: --per-label") and "\n" not in err


def test_a_missing_model_or_bundle_is_one_line_and_exit_2_before_anything_is_rendered(rendered_readings, capsys,
                                                                                       monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("rendered although an input was missing")

    monkeypatch.setattr(rendered_readings, "rendered_readings", never)
    for args, said in ((["--model", "/nope.pt"], "/nope.pt"), (["--bundle", "/nope.task"], "/nope.task")):
        assert rendered_readings.main(["--per-label", "1", "--model", str(MODEL), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("rendered_readings: ") and said in err and "\n" not in err
