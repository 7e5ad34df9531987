import io
import json
import os
import signal
import subprocess
import sys
import threading
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
from tests.conftest import ROOT, in_thread
from tests.fusion.data.recording.tiny_disk import disk  # noqa: F401  (a fixture)


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


# --- issue #18: sources that cannot start, a full disk, file sources, bad numbers, FIFOs --------------

class NeverOpens(SourceThread):
    """A source whose device or file cannot be opened (no webcam, no RealSense, a broken video)."""

    name = "never-opens"

    def _open(self):
        raise BadInput("camera 0 not found or busy")


class DiesAtOnce(SourceThread):
    """A source that opens, then fails before its first sample."""

    name = "dies-at-once"

    def _run(self):
        raise BadInput("the video ends before its first frame")


def _record_in_thread(config, timeout=20):
    """(finished, error) of record(config): a hang is a failure of the test, not of the suite."""
    return in_thread(lambda: record(config, log=io.StringIO()), timeout)


@pytest.mark.parametrize("source_class", [NeverOpens, DiesAtOnce])
def test_a_source_that_cannot_start_ends_the_record_command_without_a_file(tmp_path, monkeypatch, source_class):
    import app.sources.open

    monkeypatch.setattr(app.sources.open, "open_source", lambda name, *, sink, realtime: source_class(sink=sink))
    out = tmp_path / "out.mmtm"
    finished, error = _record_in_thread(RecordConfig(out=str(out), source="webcam"))
    assert finished, "record hung"
    assert isinstance(error, BadInput) and ("camera 0" in str(error) or "first frame" in str(error))
    assert not out.exists()  # no stub for replay to refuse, nothing in the way of the next run
    assert not [t for t in threading.enumerate() if t.name == "recorder" and t.is_alive()]


def test_record_command_with_an_unreadable_video_exits_2_at_once(tmp_path):
    video = tmp_path / "broken.mp4"
    video.write_bytes(b"not a video at all")
    out = tmp_path / "out.mmtm"
    proc = subprocess.run([sys.executable, "main.py", "record", str(out), "--source", str(video)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"mmtm-live: {video}: not a readable video file"
    assert not out.exists()


def test_record_fast_from_a_file_keeps_every_frame(tmp_path, monkeypatch):
    from fusion.data.recording import RecordingWriter

    write = RecordingWriter.write

    def slow_write(self, *args, **kwargs):  # a writer slower than the file is read: the queue fills
        time.sleep(0.002)
        return write(self, *args, **kwargs)

    monkeypatch.setattr(RecordingWriter, "write", slow_write)
    src = write_rgbd(tmp_path / "in.mmtm", n=400)
    summary = record(RecordConfig(out=str(tmp_path / "out.mmtm"), source=str(src), realtime=False), log=io.StringIO())
    with RecordingReader(src) as original, RecordingReader(tmp_path / "out.mmtm") as copy:
        assert copy.counts() == original.counts() == summary["frames"] and summary["dropped"] == 0


def test_a_full_queue_blocks_a_file_source_and_a_failed_recorder_releases_it(tmp_path):
    rec = Recorder(RecorderConfig(path=str(tmp_path / "b.mmtm"), queue_size=2, block_when_full=True))
    rec.push(Sample("depth", np.zeros((2, 2), np.uint16), 0, 0))
    rec.push(Sample("depth", np.zeros((2, 2), np.float64), 1, 1))  # not uint16: the recorder will fail on it
    blocked = threading.Thread(target=rec.push, args=(Sample("depth", np.zeros((2, 2), np.uint16), 2, 2),))
    blocked.start()
    time.sleep(0.1)
    assert blocked.is_alive() and rec.dropped == 0  # waits for room instead of dropping
    rec.start()
    blocked.join(timeout=5)
    assert not blocked.is_alive()  # the failed recorder woke it
    with pytest.raises(BadInput, match="cannot record a depth sample"):
        rec.join(timeout=5)


@pytest.mark.parametrize("field, value, flag", [("seconds", float("nan"), "--seconds"),
                                                ("seconds", float("inf"), "--seconds"),
                                                ("seconds", 0.0, "--seconds"),
                                                ("gesture_s", -5.0, "--gesture-seconds"),
                                                ("gesture_s", float("nan"), "--gesture-seconds")])
def test_record_refuses_seconds_that_are_not_positive_numbers(tmp_path, field, value, flag):
    with pytest.raises(BadInput, match=f"{flag} must be a positive number"):
        record(RecordConfig(out=str(tmp_path / "x.mmtm"), source="sample", **{field: value}), log=io.StringIO())
    assert not (tmp_path / "x.mmtm").exists()


def test_record_command_refuses_nan_seconds_with_exit_2(tmp_path, capsys):
    import main

    assert main.main(["record", str(tmp_path / "x.mmtm"), "--source", "sample", "--seconds", "nan"]) == 2
    assert main.main(["record", str(tmp_path / "x.mmtm"), "--source", "sample", "--labels", "prompt",
                      "--gestures", "fist", "--gesture-seconds", "-5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mmtm-live: --seconds must be a positive number of seconds, not nan",
                   "mmtm-live: --gesture-seconds must be a positive number of seconds, not -5.0"]


def test_record_command_on_a_full_disk_exits_2_with_one_line_and_a_readable_file(tmp_path, capsys, disk):
    import main

    src = write_rgbd(tmp_path / "in.mmtm", n=300)
    out = tmp_path / "out.mmtm"
    disk(40_000)
    assert main.main(["record", str(out), "--source", str(src), "--fast"]) == 2
    captured = capsys.readouterr()
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith(f"mmtm-live: cannot write {out}: No space left on device; it keeps the ")
    assert "Traceback" not in captured.err and captured.out == ""
    kept = int(last.split("it keeps the ")[1].split()[0])
    with RecordingReader(out) as r:  # indexed when the index fitted, else read by scanning: every frame kept
        assert r.complete or r.recovery.startswith("not finalised") and "no chunk is damaged" in r.recovery
        assert len(list(r.frames())) == len(r) == kept > 10 and r.skipped == 0
        assert [f.index for f in r.frames(["depth"])] == list(range(r.counts()["depth"]))


def test_record_on_a_disk_full_from_the_start_leaves_no_file(tmp_path, disk):
    src = write_rgbd(tmp_path / "in.mmtm", n=5)
    disk(0)
    with pytest.raises(BadInput, match="No space left on device"):
        record(RecordConfig(out=str(tmp_path / "out.mmtm"), source=str(src), realtime=False), log=io.StringIO())
    assert not (tmp_path / "out.mmtm").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_record_to_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.mmtm"
    os.mkfifo(fifo)
    finished, error = _record_in_thread(RecordConfig(out=str(fifo), source="sample", overwrite=True))
    assert finished and isinstance(error, BadInput) and "not a regular file" in str(error)
