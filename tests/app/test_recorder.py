import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from app.recorder import RecordConfig, Recorder, RecorderConfig, record
from app.sources.audio import write_wav
from app.sources.base import SourceThread, now_ns
from fusion.data.recording import RecordingReader
from fusion.data.sample import Sample, Skeleton, StreamInfo
from fusion.errors import BadInput
from tests.app.recordings import write_rgbd
from tests.conftest import ROOT


class FakeCamera(SourceThread):
    """A tiny synthetic RGB-D + skeleton source, for the recorder."""

    name = "fake-camera"

    def __init__(self, *, sink, frames=20, fail_at=None):
        super().__init__(sink=sink)
        self.frames, self.fail_at = frames, fail_at
        self.stream_info = {"color": StreamInfo("color", 8, 6, 30.0, intrinsics={"fx": np.float32(5.0)}),
                            "depth": StreamInfo("depth", 8, 6, 30.0, depth_scale=0.001)}

    def _run(self):
        for i in range(self.frames):
            if self.stopping:
                return
            if i == self.fail_at:
                raise RuntimeError("camera unplugged")
            t = now_ns()
            self.emit(Sample("color", np.full((6, 8, 3), i, np.uint8), i, t, device_ms=i * 33.3))
            self.emit(Sample("depth", np.full((6, 8), 1000 + i, np.uint16), i, t))
            self.emit(Sample("skeleton", Skeleton(np.full((21, 3), 0.5, np.float32), handedness="Left"), i, t))


def test_recorder_thread_records_a_source(tmp_path):
    path = tmp_path / "cam.mmtm"
    cam = FakeCamera(sink=lambda s: None)
    rec = Recorder(RecorderConfig(path=str(path), lossless=True, meta={"device": {"serial": "123"}}),
                   stream_info=cam.stream_info)
    cam.set_sink(rec.push)
    rec.start()
    cam.start()
    cam.join(timeout=5)
    rec.add_label("fist", start_ns=1, end_ns=2)
    rec.stop()
    rec.join(timeout=5)
    assert rec.written == 60 and rec.dropped == 0
    with RecordingReader(path) as r:
        assert r.complete and r.counts() == {"color": 20, "depth": 20, "skeleton": 20}
        assert r.streams["color"]["intrinsics"] == {"fx": 5.0} and r.streams["depth"]["depth_scale"] == 0.001
        assert r.meta["device"] == {"serial": "123"} and "host" in r.meta
        assert r.labels[0].label == "fist"
        frames = list(r.frames())
        np.testing.assert_array_equal(frames[3 * 7].data, np.full((6, 8, 3), 7, np.uint8))
        assert frames[3 * 7].device_ms == pytest.approx(7 * 33.3)
        assert frames[2].data.handedness == "Left"


def test_recorder_error_reaches_join_and_keeps_what_was_written(tmp_path):
    path = tmp_path / "bad.mmtm"
    rec = Recorder(RecorderConfig(path=str(path)))
    rec.start()
    rec.push(Sample("depth", np.zeros((4, 4), np.uint16), 0, 1))
    rec.push(Sample("depth", np.zeros((4, 4), np.float64), 1, 2))  # not uint16: bad input
    rec.push(Sample("depth", np.zeros((4, 4), np.uint16), 2, 3))
    assert rec.finished.wait(5)
    with pytest.raises(BadInput, match="cannot record a depth sample"):
        rec.join(timeout=5)
    with RecordingReader(path) as r:
        assert r.complete and len(r) == 1  # finalised with the good sample


def test_source_error_still_finalises_the_file(tmp_path):
    path = tmp_path / "unplugged.mmtm"
    fan = []
    cam = FakeCamera(sink=lambda s: fan[0](s), frames=50, fail_at=10)
    rec = Recorder(RecorderConfig(path=str(path)), stream_info=cam.stream_info)
    fan.append(rec.push)
    rec.start()
    cam.start()
    with pytest.raises(RuntimeError, match="unplugged"):
        cam.join(timeout=5)
    rec.stop()
    rec.join(timeout=5)
    with RecordingReader(path) as r:
        assert r.complete and r.counts()["depth"] == 10


def test_full_queue_drops_oldest_and_counts(tmp_path):
    rec = Recorder(RecorderConfig(path=str(tmp_path / "q.mmtm"), queue_size=4))
    for i in range(10):  # not started: nothing is written yet
        rec.push(Sample("depth", np.full((2, 2), i, np.uint16), i, i))
    rec.add_label("fist", start_ns=0, end_ns=1)  # labels are never dropped
    assert rec.dropped == 6
    rec.start()
    rec.stop()
    rec.join(timeout=5)
    with RecordingReader(tmp_path / "q.mmtm") as r:
        assert [f.index for f in r.frames()] == [6, 7, 8, 9] and len(r.labels) == 1


def test_join_before_start_and_twice(tmp_path):
    rec = Recorder(RecorderConfig(path=str(tmp_path / "e.mmtm")))
    rec.join(timeout=1)
    with RecordingReader(tmp_path / "e.mmtm") as r:
        assert r.complete and len(r) == 0


def test_record_from_a_recording_with_prompted_labels(tmp_path):
    src = write_rgbd(tmp_path / "in.mmtm", n=30)
    out = tmp_path / "out.mmtm"
    log = io.StringIO()
    summary = record(RecordConfig(out=str(out), source=str(src), labels="prompt", gestures=("fist", "push"),
                                  gesture_s=0.2, pause_s=0.1, realtime=True), log=log)
    text = log.getvalue()
    assert "perform fist now" in text and "recording" in text
    with RecordingReader(out) as r:
        assert r.complete and r.counts() == summary["frames"]
        assert 0 < r.counts()["depth"] <= 30
        labels = [(l.label, l.end_ns - l.start_ns) for l in r.labels]
        assert [l for l, _ in labels][:1] == ["fist"] and all(d > 0 for _, d in labels)
        first, last = r.table["host_ns"].min(), r.table["host_ns"].max()
        assert first <= r.labels[0].start_ns <= last  # the labels are on the frames' clock


def test_record_from_wav_for_some_seconds(tmp_path):
    wav = tmp_path / "a.wav"
    write_wav(wav, np.zeros(16000 * 5, np.float32), 16000)
    summary = record(RecordConfig(out=str(tmp_path / "a.mmtm"), source=str(wav), seconds=0.3), log=io.StringIO())
    assert 0.25 < summary["seconds"] < 2 and 0 < summary["frames"]["audio"] < 30
    with RecordingReader(tmp_path / "a.mmtm") as r:
        assert r.streams["audio"]["rate"] == 16000


def test_record_rejects_bad_options(tmp_path):
    with pytest.raises(BadInput, match="needs --gestures"):
        record(RecordConfig(out=str(tmp_path / "x.mmtm"), source="sample", labels="prompt"))
    with pytest.raises(BadInput, match="snake_case"):
        record(RecordConfig(out=str(tmp_path / "x.mmtm"), source="sample", labels="prompt", gestures=("Fist!",)))


def test_record_command_ctrl_c_finalises(tmp_path):
    wav = tmp_path / "long.wav"
    write_wav(wav, np.zeros(16000 * 30, np.float32), 16000)
    out = tmp_path / "ctrlc.mmtm"
    proc = subprocess.Popen([sys.executable, "main.py", "record", str(out), "--source", str(wav)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 20
        while (not out.exists() or out.stat().st_size < 20_000) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout.decode().strip().splitlines()[-1])
    assert summary["interrupted"] is True
    with RecordingReader(out) as r:
        assert r.complete and r.counts()["audio"] == summary["frames"]["audio"] > 0


def test_record_command_killed_with_sigkill_leaves_a_readable_file(tmp_path):
    src = write_rgbd(tmp_path / "in.mmtm", n=300)  # 10 s, replayed in real time
    out = tmp_path / "killed.mmtm"
    proc = subprocess.Popen([sys.executable, "main.py", "record", str(out), "--source", str(src)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 20
        while (not out.exists() or out.stat().st_size < 5_000) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    with RecordingReader(out) as r:
        assert not r.complete and "recovered" in r.recovery
        assert r.counts()["depth"] > 5 and r.streams["depth"]["depth_scale"] == 0.001
        assert [f.index for f in r.frames(["depth"])] == list(range(r.counts()["depth"]))


def test_record_never_replaces_a_file_unless_asked(tmp_path):
    src = write_rgbd(tmp_path / "in.mmtm", n=5)
    before = src.read_bytes()
    with pytest.raises(BadInput, match="onto itself"):
        record(RecordConfig(out=str(src), source=str(src), overwrite=True), log=io.StringIO())
    out = tmp_path / "out.mmtm"
    out.write_bytes(b"precious")
    with pytest.raises(BadInput, match="already exists"):
        record(RecordConfig(out=str(out), source=str(src)), log=io.StringIO())
    assert out.read_bytes() == b"precious" and src.read_bytes() == before
    record(RecordConfig(out=str(out), source=str(src), overwrite=True, realtime=False), log=io.StringIO())
    with RecordingReader(out) as r:
        assert r.complete and r.counts()["depth"] == 5
