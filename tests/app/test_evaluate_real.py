"""``eval --real``: every item of a real-footage folder run the way the app runs it."""

import json
import subprocess
import sys

import numpy as np
import pytest

from app.evaluate_real import Held, RealEvalConfig, evaluate_real, hold_still
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS
from fusion.online import OnlineConfig
from fusion.preprocess import InputSpec
from tests.conftest import ROOT


class _Runner:
    """A streaming model that answers ``label`` strongly whenever a hand is held (present), else no_gesture."""

    streaming = True
    modalities = ("skeleton",)
    labels = DEFAULT_LABELS
    spec = InputSpec(width=64, height=48, window=20)
    online = OnlineConfig(from_logits=True)

    def __init__(self, label):
        self.label = label

    def initial_state(self, batch=1):
        return [np.zeros((batch, 1), np.float32)]

    def warm_state(self, frames, present):
        return self.initial_state(len(present))

    def step(self, frames, present, state):
        seen = frames["skeleton"][:, 7, 0] > 0  # the presence channel
        logits = np.full((len(seen), len(self.labels)), -4.0, np.float32)
        logits[:, 0] = 2.0
        logits[seen, self.labels.index(self.label)] = 6.0
        return logits, state


def _hand() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (0.5 + rng.uniform(-0.1, 0.1, (21, 3))).astype(np.float32)


def test_a_held_hand_is_called_by_the_first_event_and_a_quiet_one_no_gesture():
    calls = hold_still(_Runner("fist"), [Held(_hand(), "Right", 4 / 3), Held(None, None, 4 / 3)], 1.5)
    assert calls[0][0] == "fist" and calls[0][1] > 0.9
    assert calls[1][0] == "no_gesture"  # no hand found: nothing to call


def test_more_held_hands_than_one_batch_keep_their_order():
    held = [Held(_hand() if i % 3 else None, None, 1.0) for i in range(300)]
    calls = hold_still(_Runner("victory"), held, 1.0)
    assert [c for c, _ in calls] == ["victory" if i % 3 else "no_gesture" for i in range(300)]


def _folder(tmp_path, manifest: dict):
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def _pbtxt(points: np.ndarray) -> str:
    marks = "".join(f"  landmark {{\n    x: {x}\n    y: {y}\n    z: {z}\n  }}\n" for x, y, z in points)
    return ('classifications {\n  classification {\n    score: 0.9\n    label: "Right"\n  }\n}\n\n'
            f"landmarks {{\n{marks}}}\n")


def test_a_folder_of_landmark_files_and_a_table_is_scored_item_by_item(tmp_path):
    (tmp_path / "a_landmarks.pbtxt").write_text(_pbtxt(_hand()))
    rows = np.random.default_rng(1).uniform(-1, 1, (400, 42)).round(4)
    lines = [",".join(["0" if i < 200 else "1", *map(str, row)]) for i, row in enumerate(rows)]
    (tmp_path / "keypoint.csv").write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    root = _folder(tmp_path, {"landmarks": [{"file": "a_landmarks.pbtxt", "label": "fist"}],
                              "keypoint_tables": [{"file": "keypoint.csv", "labels": {"0": "fist", "1": "no_gesture"}}],
                              "something_new": {"ignored": True}})
    report = evaluate_real(RealEvalConfig(root=str(root), model="untrained-skeleton", progress=False))
    kinds = [i["kind"] for i in report["items"]]
    assert kinds == ["landmarks", "table", "table"]
    table = {i["expected"]: i for i in report["items"] if i["kind"] == "table"}
    assert table["fist"]["rows"] == 100 and table["no_gesture"]["rows"] == 100  # the held-out half of the blocks
    assert report["table_rows"] == 100 and report["oov_items"] == 100
    assert report["table_top1"] == round(table["fist"]["right"] / 100, 4)
    assert report["video_levenshtein"] is None and report["static_items"] == 1
    assert all(i["called"] in DEFAULT_LABELS for i in report["items"])


def test_recogniser_settings_given_for_the_run_reach_every_held_hand(real_data, tmp_path):
    """``eval --real --online ...``: the shipped webcam model's fist file is called, and nothing is
    called once no smoothed score can open a segment."""
    fist = real_data / "landmarks" / "mediapipe_testdata" / "fist_landmarks.pbtxt"
    (tmp_path / "fist_landmarks.pbtxt").write_text(fist.read_text())
    root = _folder(tmp_path, {"landmarks": [{"file": "fist_landmarks.pbtxt", "label": "fist"}]})
    called = evaluate_real(RealEvalConfig(root=str(root), progress=False))
    assert called["items"][0]["called"] == "fist" and "online" not in called["model"]
    never = ("start_threshold=1", "static_start_threshold=1")
    quiet = evaluate_real(RealEvalConfig(root=str(root), progress=False, online=never))
    assert quiet["items"][0]["called"] == "no_gesture" and quiet["model"]["online"] == list(never)


def test_modalities_without_the_skeleton_are_refused(tmp_path):
    (tmp_path / "a_landmarks.pbtxt").write_text(_pbtxt(_hand()))
    root = _folder(tmp_path, {"landmarks": [{"file": "a_landmarks.pbtxt", "label": "fist"}]})
    for wrong in (("rgb",), ("skeleton", "audio")):
        with pytest.raises(BadInput, match="give skeleton, and rgb or depth"):
            evaluate_real(RealEvalConfig(root=str(root), model="untrained-skeleton", modalities=wrong, progress=False))
    report = evaluate_real(RealEvalConfig(root=str(root), model="untrained-skeleton", modalities=("skeleton",),
                                          progress=False))
    assert report["static_items"] == 1


def test_a_pose_the_model_does_not_know_is_expected_to_stay_quiet(tmp_path):
    (tmp_path / "call_landmarks.pbtxt").write_text(_pbtxt(_hand()))
    rows = np.random.default_rng(1).uniform(-1, 1, (400, 42)).round(4)
    lines = [",".join(["0" if i < 200 else "3", *map(str, row)]) for i, row in enumerate(rows)]
    (tmp_path / "keypoint.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    root = _folder(tmp_path, {"landmarks": [{"file": "call_landmarks.pbtxt", "label": "call"}],
                              "keypoint_tables": [{"file": "keypoint.csv", "labels": {"0": "fist", "3": "ok"}}]})
    report = evaluate_real(RealEvalConfig(root=str(root), model="untrained-skeleton", progress=False))
    held, fist, ok = report["items"]
    assert (held["expected"], held["pose"]) == ("no_gesture", "call")
    assert (ok["expected"], ok["pose"], fist["expected"]) == ("no_gesture", "ok", "fist") and "pose" not in fist
    assert ok["right"] == ok["calls"].get("no_gesture", 0)  # right: kept quiet
    assert report["oov_items"] == 1 + ok["rows"] and report["static_items"] == 0
    assert report["oov_quiet"] == round(((held["called"] == "no_gesture") + ok["right"]) / report["oov_items"], 4)
    from app.evaluate_real import format_real_report

    assert "no_gesture (call)" in format_real_report(report)


@pytest.mark.parametrize("manifest, message", [
    ({"videos": [{"file": "missing.mp4", "fps": 15}]}, "no such video"),
    ({"photos": [{"file": "photo.jpg", "label": "fist"}]}, "not a readable image"),
    ({"photos": [{"file": "photo.jpg", "label": "Not A Label"}]}, "snake_case"),
    ({}, "lists no items"),
])
def test_bad_items_are_one_clear_error(tmp_path, manifest, message):
    (tmp_path / "photo.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(BadInput, match=message):
        evaluate_real(RealEvalConfig(root=str(_folder(tmp_path, manifest)), model="untrained-skeleton", progress=False))


def test_the_command_exits_2_with_one_line_for_a_folder_without_a_manifest(tmp_path):
    result = subprocess.run([sys.executable, "main.py", "eval", "--real", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "manifest.json" in result.stderr


def test_the_development_set_end_to_end(real_data):
    pytest.importorskip("mediapipe")
    result = subprocess.run([sys.executable, "main.py", "eval", "--real", str(real_data), "--json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)  # nothing but the JSON
    kinds = {i["kind"] for i in report["items"]}
    assert kinds == {"landmarks", "photo", "table", "video"}
    assert report["static_items"] == 7 and report["video_gestures"] == 8
    for key in ("static_top1", "oov_quiet", "table_top1", "video_levenshtein"):
        assert 0.0 <= report[key] <= 1.0, key
    from app.evaluate_real import format_real_report

    text = format_real_report(report)  # what the command prints without --json
    assert "static top-1" in text and "Levenshtein" in text
