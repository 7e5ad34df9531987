"""scripts/make_readings.py: MediaPipe's readings of rendered hands written as a readings file."""

import pytest

from fusion.data.readings import load_readings
from fusion.labels import NO_GESTURE, STATIC_GESTURES
from tests.conftest import load_script


@pytest.fixture
def make_readings(monkeypatch):
    return load_script("make_readings", monkeypatch)


def test_a_small_readings_file_of_held_and_moving_hands(make_readings, tmp_path, capsys):
    pytest.importorskip("mediapipe")
    out = tmp_path / "r.npz"
    assert make_readings.main(["--out", str(out), "--held", "2", "--moving", "2", "--seed", "5"]) == 0
    data = load_readings(out)
    n = len(data["label"])
    assert 0 < n <= 2 * 7 + 2 * 4          # the last frame of 14 held clips, every 8th of 2 moving ones of 32
    assert set(data["label"]) <= {*STATIC_GESTURES, NO_GESTURE} and data["size"].tolist() == [640, 480]
    assert ((data["read"][..., :2] > -0.5) & (data["read"][..., :2] < 1.5)).all()  # image fractions
    assert data["read"][..., 2].std() > 0  # MediaPipe's own z
    said = capsys.readouterr().out
    assert said.startswith(f"make_readings: {n} readings of ") and str(out) in said


@pytest.mark.parametrize("args, said", [(["--held", "0", "--moving", "0"], "--held"),
                                        (["--held", "-1"], "--held"),
                                        (["--bundle", "/nowhere/hand.task"], "/nowhere/hand.task")])
def test_bad_arguments_are_one_line_and_exit_2_before_anything_is_rendered(make_readings, monkeypatch, tmp_path,
                                                                            capsys, args, said):
    def never(*_, **__):
        raise AssertionError("rendered although an input was bad")

    monkeypatch.setattr(make_readings, "rendered_readings", never)
    out = tmp_path / "r.npz"
    assert make_readings.main(["--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("make_readings: ") and said in err and err.count("\n") == 1 and not out.exists()
