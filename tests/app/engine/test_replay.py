import io
import json
import subprocess
import sys

import pytest

import main
from app.engine import Engine, EngineConfig
from app.inference_worker import WorkerConfig
from app.model_runner import RunnerConfig
from tests.app.engine_fixtures import tiny_checkpoint
from tests.app.recordings import write_rgbd
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return str(tiny_checkpoint(tmp_path_factory.mktemp("model") / "tiny.pt"))


def replay(path, *, model, max_frames=None):
    """A headless deterministic replay, configured as the command line does; the summary."""
    config = EngineConfig(source=str(path), runner=RunnerConfig(model=model), deterministic=True,
                          worker=WorkerConfig(deterministic=True), max_frames=max_frames)
    return Engine(config, out=io.StringIO()).run()


def run_cli(capsys, *args):
    code = main.main(["replay", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_replay_headless_prints_json_lines_and_summary_last(tmp_path, capsys, model):
    path = write_rgbd(tmp_path / "r.mmtm", n=30, color_every=2, hand_every=3)
    code, events, err = run_cli(capsys, str(path), "--headless", "--deterministic", "--model", model)
    assert code == 0 and err == ""
    assert events[0]["type"] == "start" and events[0]["reference"] == "depth"
    summary = events[-1]
    assert summary["type"] == "summary"
    assert summary["frames"] == {"color": 15, "depth": 30, "skeleton": 20}  # skeleton: frames with a hand
    assert summary["dropped"] == {"color": 0, "depth": 0, "skeleton": 0}
    assert summary["decisions"] == 30 and summary["latency_of"] == "capture_to_decision"  # one step per set
    assert summary["skipped"] == 0 and summary["mode"] == "streaming"
    assert set(summary["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert {"inference", "overhead", "wait"} <= set(summary["stages_ms"])
    assert summary["accuracy"]["true"] == 1  # the recording's swipe_left label
    assert 0 <= summary["latency_ms"]["p50"] <= summary["latency_ms"]["max"]
    assert summary["frame_sets"] == 30
    assert summary["missing"] == {"color": 15, "skeleton": 0}  # color at 15 fps, skeleton every frame
    assert summary["skew_ms"]["color"]["p50"] == pytest.approx(2.0, abs=0.01)
    assert summary["recovery"].startswith("complete")


def test_deterministic_replays_agree_and_max_frames_stops(tmp_path, model):
    path = write_rgbd(tmp_path / "r.mmtm", n=40)
    a = replay(path, model=model)
    b = replay(path, model=model)
    for key in ("frames", "dropped", "missing", "skew_ms", "frame_sets", "decisions"):
        assert a[key] == b[key]
    short = replay(path, max_frames=10, model=model)
    assert short["frame_sets"] == 10 and short["frames"]["depth"] < 40


def test_replay_counts_drops_from_index_gaps(tmp_path, model):
    import numpy as np

    from fusion.data.recording import RecordingWriter

    with RecordingWriter(tmp_path / "gaps.mmtm") as rec:
        for i in (0, 1, 2, 5, 6, 9):
            rec.write("depth", np.zeros((4, 4), np.uint16), index=i, host_ns=10**9 + i * 33_000_000)
    summary = replay(tmp_path / "gaps.mmtm", model=model)
    assert summary["frames"] == {"depth": 6} and summary["dropped"] == {"depth": 4}


def test_truncated_recording_replays_what_it_holds(tmp_path, capsys, model):
    path = write_rgbd(tmp_path / "r.mmtm", n=30)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    code, events, _ = run_cli(capsys, str(path), "--headless", "--deterministic", "--model", model)
    assert code == 0 and "recovered" in events[-1]["recovery"]
    assert 0 < events[-1]["frames"]["depth"] < 30


@pytest.mark.parametrize("case,needle", [
    ("missing", "no such file"),
    ("unsupported", "unsupported source"),
    ("corrupt", "not an mmtm recording"),
    ("truncated", "no readable frame"),
])
def test_bad_files_exit_2_with_one_line(tmp_path, capsys, case, needle, model):
    path = tmp_path / "x.mmtm"
    if case == "unsupported":
        path = tmp_path / "x.txt"
        path.write_text("hello")
    elif case == "corrupt":
        path.write_bytes(b"\x89PNG not a recording at all" * 4)
    elif case == "truncated":
        data = write_rgbd(tmp_path / "good.mmtm", n=5).read_bytes()
        path.write_bytes(data[:70])
    code, events, err = run_cli(capsys, str(path), "--headless", "--model", model)
    assert code == 2 and events == []
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_replay_cli_subprocess_exit_codes(tmp_path, model):
    path = write_rgbd(tmp_path / "r.mmtm", n=6)
    ok = subprocess.run([sys.executable, "main.py", "replay", str(path), "--headless", "--deterministic",
                         "--max-frames", "3", "--model", model], cwd=ROOT, capture_output=True, text=True,
                        timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.splitlines()[-1])["frame_sets"] == 3
    bad = subprocess.run([sys.executable, "main.py", "replay", str(tmp_path / "nope.mmtm"), "--headless",
                          "--model", model],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().endswith("no such file") and bad.stdout == ""


def test_frame_of_another_size_is_skipped_and_reported(tmp_path, capsys, model):
    import numpy as np

    from fusion.data.recording import RecordingWriter

    with RecordingWriter(tmp_path / "sizes.mmtm") as rec:
        rec.set_stream("depth", {"width": 4, "height": 3})
        rec.write("depth", np.zeros((3, 4), np.uint16), index=0, host_ns=1)
        rec.write("depth", np.zeros((5, 4), np.uint16), index=1, host_ns=2)
    code, events, err = run_cli(capsys, str(tmp_path / "sizes.mmtm"), "--headless", "--deterministic",
                                "--model", model)
    summary = events[-1]  # the reader refuses the frame from its PNG header, before decoding it
    assert code == 0 and summary["frames"]["depth"] == 1 and summary["damaged"] == 1
    assert "1 damaged frame skipped (first: an image of 4x5 in a stream of 4x3)" in summary["recovery"]


def test_replay_with_audio_and_every_stream(tmp_path, model):
    from tests.fusion.data.recording.test_reader_writer import write_sample

    path = write_sample(tmp_path / "all.mmtm", n=5)
    summary = replay(path, model=model)
    assert summary["frames"] == {"color": 5, "depth": 5, "skeleton": 4, "audio": 5}
    assert summary["frame_sets"] == 5 and summary["dropped"]["audio"] == 0


def test_online_settings_on_the_command_line_change_the_calls(capsys):
    """``--online NAME=VALUE`` replaces the shipped model's stored recogniser settings for the run."""
    first = ("sample", "--headless", "--deterministic", "--max-frames", "200")  # the sample's first two gestures
    code, lines, _ = run_cli(capsys, *first)
    assert code == 0 and [e["label"] for e in lines if e["type"] == "gesture"]
    assert "online" not in lines[-1]["model"]
    # no smoothed probability reaches 1: nothing opens, nothing is called
    code, lines, _ = run_cli(capsys, *first, "--online", "start_threshold=1", "--online", "static_start_threshold=1")
    assert code == 0 and not [e for e in lines if e["type"] == "gesture"]
    assert lines[-1]["model"]["online"] == ["start_threshold=1", "static_start_threshold=1"]
    code, lines, err = run_cli(capsys, "sample", "--headless", "--online", "cooldown_s=-1")
    assert code == 2 and not lines and err.count("\n") == 1 and "cooldown_s must be >= 0" in err


def test_modalities_leave_the_others_absent_as_for_a_source_without_them(tmp_path, capsys, model):
    """``--modalities``: the model is given only the named modalities of what the source has."""
    path = write_rgbd(tmp_path / "r.mmtm", n=20)
    args = (str(path), "--headless", "--deterministic", "--model", model)
    code, lines, _ = run_cli(capsys, *args)
    assert code == 0 and lines[0]["fed"] == ["rgb", "depth", "skeleton"]
    code, lines, _ = run_cli(capsys, *args, "--modalities", "skeleton")
    assert code == 0 and lines[0]["fed"] == ["skeleton"] and lines[-1]["decisions"] == 20
    code, lines, _ = run_cli(capsys, *args, "--modalities", "skeleton,depth")
    assert code == 0 and lines[0]["fed"] == ["depth", "skeleton"]  # in the model's order
    for bad in ("audio", "rgb,nothing"):
        code, lines, err = run_cli(capsys, *args, "--modalities", bad)
        assert code == 2 and err.count("\n") == 1 and "--modalities" in err
