import time

import numpy as np
import pytest

from app.sources.open import open_source
from app.sources.recording import RecordingConfig, RecordingSource
from fusion.data.sample import Skeleton
from fusion.errors import BadInput
from tests.app.recordings import PERIOD, T0, write_rgbd


def collect(source):
    got = []
    source.set_sink(got.append)
    source.start()
    source.join(timeout=10)
    return got


def test_deterministic_replay_emits_every_frame_in_file_order(tmp_path):
    path = write_rgbd(tmp_path / "r.mmtm", n=12)
    runs = []
    for _ in range(2):
        source = RecordingSource(RecordingConfig(str(path), realtime=False), sink=lambda s: None)
        assert set(source.stream_info) == {"color", "depth", "skeleton"}
        assert source.stream_info["depth"].depth_scale == 0.001 and source.stream_info["color"].fps == 15.0
        assert [l.label for l in source.labels] == ["swipe_left"]
        got = collect(source)
        runs.append([(s.stream, s.index, s.device_ms) for s in got])
        skeletons = [s.data for s in got if s.stream == "skeleton"]
        assert all(isinstance(k, Skeleton) for k in skeletons if k is not None)
        assert sum(k is None for k in skeletons) == 4
        depth = [s for s in got if s.stream == "depth"]
        assert depth[3].data.dtype == np.uint16 and int(depth[3].data[0, 0]) == 503
        assert depth[3].device_ms == pytest.approx((T0 + 3 * PERIOD) / 1e6)  # the recording's clock
    assert runs[0] == runs[1] and len(runs[0]) == 12 + 6 + 12


def test_realtime_replay_is_paced_and_stops_early(tmp_path):
    path = write_rgbd(tmp_path / "r.mmtm", n=10)  # 0.3 s of recording
    source = RecordingSource(RecordingConfig(str(path), realtime=True, streams=("depth",)), sink=lambda s: None)
    start = time.monotonic()
    got = collect(source)
    assert len(got) == 10 and {s.stream for s in got} == {"depth"}
    assert time.monotonic() - start >= 0.25
    hosts = [s.host_ns for s in got]
    assert (hosts[-1] - hosts[0]) / 1e6 == pytest.approx(9 * PERIOD / 1e6, abs=40)
    # stop() wakes the pacing wait
    long = write_rgbd(tmp_path / "long.mmtm", n=300)
    source = RecordingSource(RecordingConfig(str(long)), sink=lambda s: None)
    source.start()
    time.sleep(0.1)
    source.stop()
    source.join(timeout=2)
    assert 0 < source.emitted < 100


def test_bad_files_fail_in_the_constructor(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        RecordingSource(RecordingConfig(str(tmp_path / "missing.mmtm")), sink=lambda s: None)
    (tmp_path / "junk.mmtm").write_bytes(b"\x00" * 100)
    with pytest.raises(BadInput, match="not an mmtm recording"):
        open_source(str(tmp_path / "junk.mmtm"), sink=lambda s: None)


def test_open_source_dispatch_and_errors(tmp_path):
    path = write_rgbd(tmp_path / "r.mmtm", n=3)
    assert isinstance(open_source(str(path), sink=lambda s: None), RecordingSource)
    with pytest.raises(BadInput, match="unknown source"):
        open_source("nowhere", sink=lambda s: None)
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(BadInput, match="unsupported source"):
        open_source(str(tmp_path / "notes.txt"), sink=lambda s: None)


def test_open_source_dispatches_every_kind(tmp_path):
    from app.sources.realsense import RealSenseSource
    from app.sources.video import VideoSource

    sink = lambda s: None  # noqa: E731
    for name in ("a.db3", "a.BAG", "clip.mp4"):
        (tmp_path / name).write_bytes(b"")  # opened on start(), not here
    assert isinstance(open_source(str(tmp_path / "a.db3"), sink=sink), RealSenseSource)
    assert isinstance(open_source(str(tmp_path / "a.BAG"), sink=sink), RealSenseSource)
    assert isinstance(open_source(str(tmp_path / "clip.mp4"), sink=sink), VideoSource)
    assert isinstance(open_source("webcam:1", sink=sink), VideoSource)
    assert isinstance(open_source("realsense:012345", sink=sink), RealSenseSource)
    with pytest.raises(BadInput, match="webcam index"):
        open_source("webcam:front", sink=sink)


def test_missing_video_and_realsense_files_are_bad_input(tmp_path):
    for name in ("gone.mp4", "gone.db3"):
        with pytest.raises(BadInput, match="not found"):
            open_source(str(tmp_path / name), sink=lambda s: None)


def test_a_recording_tells_it_is_seekable_its_length_labels_and_recovery(tmp_path):
    path = write_rgbd(tmp_path / "r.mmtm", n=10)
    source = RecordingSource(RecordingConfig(str(path)), sink=lambda s: None)
    assert source.seekable
    assert source.duration_s == pytest.approx((9 * PERIOD + 4_000_000) / 1e9)  # first frame (depth) to last
    assert [(s.label, s.start_ns, s.end_ns) for s in source.labels] == [("swipe_left", T0, T0 + 10**9)]
    assert source.recovery.startswith("complete") and source.damaged == 0
    # its reader paces it: set_realtime(False) reads the file as fast as it decodes
    source.set_realtime(False)
    start = time.monotonic()
    assert len(collect(source)) == 10 + 5 + 10
    assert time.monotonic() - start < 0.25  # paced, it would take 0.3 s


@pytest.mark.timeout(30)
def test_a_paced_replay_caps_a_jump_of_the_recorded_clock_and_says_so(tmp_path, monkeypatch, capsys):
    import app.sources.recording
    from fusion.data.recording import RecordingWriter

    monkeypatch.setattr(app.sources.recording, "MAX_GAP_S", 0.2)
    path = tmp_path / "jump.mmtm"
    with RecordingWriter(path) as rec:
        for i, t in enumerate([T0, T0 + PERIOD, T0 + PERIOD + 10**18, T0 + 2 * PERIOD + 10**18]):
            rec.write("depth", np.zeros((4, 4), np.uint16), index=i, host_ns=t)
    source = RecordingSource(RecordingConfig(str(path), realtime=True), sink=lambda s: None)
    assert source.duration_s == pytest.approx(1e9, rel=1e-6)  # no int64 overflow either
    start = time.monotonic()
    got = collect(source)
    assert len(got) == 4 and 0.25 <= time.monotonic() - start < 1.5
    assert source.recovery.endswith("; 1 clock jumps (up to 1e+09 s) replayed as 0.2 s")
    assert "its clock jumps 1e+09 s ahead" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["skeleton_nan", "meta_nested_100000", "png_bombs_undeclared_size",
                                  "meta_damaged_no_frames"])
def test_replay_of_crafted_recordings_exits_0_or_2(tmp_path, name):
    """End to end (``python main.py replay crafted.mmtm --headless``): never a traceback or exit 1,
    never a non-finite score; a refusal is one line."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.fusion.data.recording.crafted import crafted

    data, expect = crafted()[name]
    path = tmp_path / f"{name}.mmtm"
    path.write_bytes(data)
    proc = subprocess.run([sys.executable, "main.py", "replay", str(path), "--headless", "--deterministic"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "Traceback" not in proc.stderr
    if expect == "refuse":
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
        return
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} in the output")) for line in
             proc.stdout.splitlines()]
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["frames"]["depth"] == 3
    assert all(0.0 <= line["score"] <= 1.0 for line in lines if "score" in line)
    assert summary["recovery"].startswith("complete: ")
    assert summary["damaged"] == {"skeleton_nan": 1, "meta_nested_100000": 1, "png_bombs_undeclared_size": 3}[name]
