"""End to end: a hostile checkpoint, actions file or RealSense recording given to ``main.py`` ends in
exit 2 with one line on stderr (issue #18), never a traceback, a crash or a hang."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fusion.build import build_model
from fusion.checkpoint import save_checkpoint
from tests.fusion.tiny import tiny_config

ROOT = Path(__file__).resolve().parents[2]
LABELS = ("no_gesture", "fist", "swipe_left", "swipe_right", "push")


def run_main(*args, timeout=120):
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def assert_one_line_exit_2(result, *fragments):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("mmtm-live: ") and "Traceback" not in result.stderr, lines
    for fragment in fragments:
        assert fragment in lines[0]


def _checkpoint(tmp_path, *, meta=None, weights=None):
    good = tmp_path / "good.pt"
    save_checkpoint(good, build_model(tiny_config()), labels=LABELS)
    payload = torch.load(good, weights_only=True)
    if meta:
        data = json.loads(payload["metadata"])
        meta(data)
        payload["metadata"] = json.dumps(data)
    if weights:
        payload["state_dict"] = {k: weights(v) if v.is_floating_point() else v for k, v in payload["state_dict"].items()}
    torch.save(payload, tmp_path / "bad.pt")
    return tmp_path / "bad.pt"


@pytest.mark.parametrize("case, meta, weights, message", [
    ("mmtm_ratio 0", lambda m: m["model"].update(mmtm_ratio=0), None, "mmtm_ratio must be finite, at least"),
    ("NaN weights", None, lambda t: torch.full_like(t, float("nan")), "holds NaN or infinite values"),
])
def test_demo_with_a_hostile_checkpoint_exits_2(tmp_path, case, meta, weights, message):
    path = _checkpoint(tmp_path, meta=meta, weights=weights)
    result = run_main("demo", "--model", path, "--headless", "--source", "sample", "--max-frames", 5)
    assert_one_line_exit_2(result, str(path), message)


def test_demo_with_a_hostile_actions_file_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[global]\ncommand_timeout_s = inf\n")  # was an OverflowError when a command ran
    result = run_main("demo", "--actions", path, "--headless", "--source", "sample", "--max-frames", 5)
    assert_one_line_exit_2(result, str(path), "global.command_timeout_s")


def test_replay_of_a_recording_that_crashed_the_sdk_exits_2(tmp_path):
    pytest.importorskip("pyrealsense2")
    from tests.app.rs_fixtures import write_recording

    path = write_recording(tmp_path / "bad.db3", frames=2, depth_size=(32, 24), color_size=(32, 24))
    with sqlite3.connect(path) as con:  # a message of no topic: load_device spun forever before
        con.execute("UPDATE messages SET topic_id = 99 WHERE id = 2")
    con.close()
    result = run_main("replay", path, "--headless")
    assert_one_line_exit_2(result, str(path), "not a readable RealSense recording")
