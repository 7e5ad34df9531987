import io
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

from app.engine import Engine, EngineConfig
from app.inference_worker import WorkerConfig
from app.model_runner import RunnerConfig
from app.sources.base import SourceThread, now_ns
from fusion.data.sample import Sample, StreamInfo
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS
from fusion.online import OnlineConfig
from tests.app.engine.fakes import FakeHandSource, FakeRunner
from tests.app.engine_fixtures import tiny_checkpoint, write_moving


def make_engine(runner, *, source_kw=None, **config):
    sources = []

    def factory(name, sink, realtime):
        sources.append(FakeHandSource(sink, **(source_kw or {})))
        return sources[0]

    out = io.StringIO()
    engine = Engine(EngineConfig(source="fake", **config), out=out, runner=runner, make_source=factory)
    return engine, out, sources


def lines(out):
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_engine_emits_gesture_lines_and_summary_last():
    engine, out, _ = make_engine(FakeRunner(), deterministic=True)
    summary = engine.run()
    events = lines(out)
    assert events[0]["type"] == "start" and events[-1] == summary
    gestures = [e for e in events if e["type"] == "gesture"]
    assert [g["label"] for g in gestures] == ["swipe_left"]
    assert 0.2 <= gestures[0]["t"] <= 0.7  # frames 20..50 at 100 fps (t from the device clock), + smoothing
    assert summary["decisions"] == 90 and summary["skipped"] == 0
    assert summary["frames"] == {"skeleton": 90}
    assert set(summary["latency_ms"]) == {"p50", "p95", "p99", "max"}
    for stage in ("buffer", "window", "wait", "inference", "decision", "emit", "overhead"):
        assert summary["stages_ms"][stage]["n"] == 90


def test_backpressure_slow_model_never_blocks_capture_and_counts_skips():
    runner = FakeRunner(delay=0.05)  # 20 steps/s for a 100 fps source
    engine, out, sources = make_engine(runner, source_kw=dict(n=60))
    summary = engine.run()
    emit_s = sources[0].emit_s
    assert max(emit_s) < 0.04  # the sink never waited for the 50 ms model
    assert summary["skipped"] > 0
    assert summary["decisions"] + summary["skipped"] == summary["frame_sets"] == 60


def test_two_deterministic_replays_give_identical_events(tmp_path):
    ckpt = tiny_checkpoint(tmp_path / "m.pt")
    rec = write_moving(tmp_path / "r.mmtm", n=60)
    runs = []
    for _ in range(2):
        decisions = []
        out = io.StringIO()
        engine = Engine(EngineConfig(source=str(rec), runner=RunnerConfig(model=str(ckpt), device="cpu", threads=1,
                                                                          backend="auto", warmup=1),  # CLI default
                                     deterministic=True,
                                     online=OnlineConfig(from_logits=True, start_threshold=0.3, end_threshold=0.2,
                                                         static_hold_s=0.1, ema_tau_s=0.0)),
                        out=out, on_decision=lambda r, t, e: decisions.append((r.frame, r.logits.tobytes())))
        summary = engine.run()
        runs.append(([e for e in lines(out) if e["type"] == "gesture"], decisions, summary))
    (events_a, dec_a, sum_a), (events_b, dec_b, sum_b) = runs
    assert len(dec_a) == 60 and [f for f, _ in dec_a] == list(range(60))
    assert dec_a == dec_b  # bit-identical logits, in order
    assert events_a == events_b and len(events_a) > 0
    assert sum_a["skipped"] == 0 and sum_a["accuracy"]["true"] == 1


def test_model_error_reaches_the_caller():
    engine, out, _ = make_engine(FakeRunner(fail_at=5))
    with pytest.raises(ValueError, match="exploded"):
        engine.run()
    assert all(e["type"] != "summary" for e in lines(out))


def test_actions_threshold_and_snapshots(tmp_path):
    actions = tmp_path / "a.toml"
    log = tmp_path / "events.jsonl"
    actions.write_text(f'[gestures.swipe_left]\nactions = [{{ kind = "jsonl", path = "{log}" }}]\n')
    engine, out, _ = make_engine(FakeRunner(), deterministic=True, actions=str(actions), snapshots=True)
    engine.run()
    assert [json.loads(line)["label"] for line in log.read_text().splitlines()] == ["swipe_left"]
    snap = engine.slot.take_new()
    assert snap is not None and snap.finished and snap.labels == DEFAULT_LABELS
    assert snap.probs.shape == (len(DEFAULT_LABELS),) and snap.events[0].label == "swipe_left"
    assert snap.skeleton is not None and snap.model == "fake"
    high, out2, _ = make_engine(FakeRunner(), deterministic=True, min_score=1.01)
    assert high.run()["events"] == 0


def test_windowed_mode_runs_a_window_every_stride(tmp_path):
    ckpt = tiny_checkpoint(tmp_path / "w.pt", shape="windowed", temporal_strides=(1, 1, 2, 2))
    rec = write_moving(tmp_path / "r.mmtm", n=40)
    out = io.StringIO()
    summary = Engine(EngineConfig(source=str(rec), runner=RunnerConfig(model=str(ckpt), device="cpu", threads=1,
                                                                       backend="eager", warmup=0),
                                  worker=WorkerConfig(stride=4), deterministic=True), out=out).run()
    assert summary["mode"] == "windowed"
    assert summary["decisions"] == (40 - 8) // 4 + 1  # the first full window at frame 8, then every 4


def test_controls_pause_step_seek_and_record(tmp_path):
    ckpt = tiny_checkpoint(tmp_path / "m.pt")
    rec = write_moving(tmp_path / "r.mmtm", n=90)
    engine = Engine(EngineConfig(source=str(rec), runner=RunnerConfig(model=str(ckpt), device="cpu", threads=1,
                                                                       backend="eager", warmup=0),
                                 snapshots=True, headless=False), out=io.StringIO())
    engine.start()
    try:
        engine.set_paused(True)
        time.sleep(0.3)
        held = engine._feed.sets
        time.sleep(0.3)
        assert engine._feed.sets == held  # paused: the replay does not move
        engine.step(3)
        deadline = time.monotonic() + 5
        while engine._feed.sets < held + 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert held + 3 <= engine._feed.sets <= held + 4
        engine.seek(2.0)  # 60 of 90 frames: the new feed starts at t = 2 s
        engine.start_recording(str(tmp_path / "take.mmtm"), ("fist",))
        engine.set_paused(False)
        deadline = time.monotonic() + 10
        while not engine._feed.source.finished.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine._feed.frames["depth"] == 30 and engine._feed.last_t >= 2.0
        snap = engine.slot.peek()
        assert snap.seekable and snap.duration == pytest.approx(89 / 30, abs=0.05)
    finally:
        engine.shutdown()
    from fusion.data.recording import RecordingReader

    with RecordingReader(tmp_path / "take.mmtm") as reader:
        assert reader.counts()["depth"] > 0


def test_bad_model_or_source_is_bad_input(tmp_path):
    from fusion.errors import BadInput

    rec = write_moving(tmp_path / "r.mmtm", n=5)
    with pytest.raises(BadInput, match="not found"):
        Engine(EngineConfig(source=str(rec), runner=RunnerConfig(model=str(tmp_path / "no.pt"))),
               out=io.StringIO()).run()
    with pytest.raises(BadInput):
        Engine(EngineConfig(source=str(tmp_path / "none.mmtm"), runner=RunnerConfig(model="untrained")),
               out=io.StringIO()).run()


class FakeRGBDSource(SourceThread):
    """A RealSense-like source: color + depth, no skeleton (the engine runs MediaPipe on color)."""

    name = "fake-rgbd"

    def __init__(self, sink, image, n=4):
        super().__init__(sink=sink)
        self.image, self.n = image, n
        h, w = image.shape[:2]
        self.stream_info = {"color": StreamInfo("color", w, h, 30.0),
                            "depth": StreamInfo("depth", w, h, 30.0, depth_scale=0.001)}

    def _run(self):
        h, w = self.image.shape[:2]
        for i in range(self.n):
            t = now_ns()
            self.emit(Sample("depth", np.full((h, w), 600, np.uint16), i, t, device_ms=i * 33.3))
            self.emit(Sample("color", self.image, i, t, device_ms=i * 33.3))


def test_rgbd_source_without_skeleton_gets_mediapipe_hands(tmp_path, real_data):
    import cv2

    image = cv2.cvtColor(cv2.imread(str(real_data / "hand_test_image.jpg")), cv2.COLOR_BGR2RGB)
    ckpt = tiny_checkpoint(tmp_path / "m.pt")
    out = io.StringIO()
    engine = Engine(EngineConfig(source="rgbd", runner=RunnerConfig(model=str(ckpt), device="cpu", threads=1,
                                                                    backend="eager", warmup=0),
                                 deterministic=True), out=out,
                    make_source=lambda name, sink, realtime: FakeRGBDSource(sink, image))
    summary = engine.run()
    assert summary["frames"] == {"color": 4, "depth": 4, "skeleton": 4}  # a hand in every frame
    assert summary["decisions"] == 4 and summary["missing"]["skeleton"] == 0


def test_a_failed_start_leaves_no_thread_running(tmp_path):
    actions = tmp_path / "a.toml"
    actions.write_text('[gestures.swipe_left]\nactions = [{ kind = "jsonl", path = "-" }]\n')

    def no_source(name, sink, realtime):
        raise BadInput("no such source")

    before = set(threading.enumerate())
    engine = Engine(EngineConfig(source="nowhere", actions=str(actions)), out=io.StringIO(),
                    runner=FakeRunner(), make_source=no_source)
    with pytest.raises(BadInput, match="no such source"):
        engine.start()
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not set(threading.enumerate()) - before


def test_ctrl_c_ends_the_run_with_its_summary():
    # Ctrl-C (SIGINT on the main thread, where run() polls it) stops a real-time run cleanly:
    # the summary comes last and counts what was decided before it.
    engine, out, _ = make_engine(FakeRunner(), source_kw=dict(n=3000))  # 30 s at 100 fps

    def press_ctrl_c():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (engine.feeds and engine.feeds[0].decisions >= 5):
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    summary = engine.run()
    presser.join(5)
    assert lines(out)[-1] == summary
    assert 5 <= summary["decisions"] < 3000


class SeekableHands(FakeHandSource):
    """A seekable file's stand-in under a name that says nothing: the engine must ask, not guess."""

    seekable = True

    def __init__(self, sink, **kw):
        super().__init__(sink, **kw)
        self.realtime = True

    @property
    def duration_s(self):
        return (self.n - 1) / self.fps

    def set_realtime(self, realtime):
        self.realtime = realtime


def test_seekability_and_length_come_from_the_source_not_its_name():
    made = []

    def factory(name, sink, realtime):
        made.append((SeekableHands if name == "cam" else FakeHandSource)(sink, n=30))
        return made[-1]

    seekable = Engine(EngineConfig(source="cam", deterministic=True, snapshots=True), out=io.StringIO(),
                      runner=FakeRunner(), make_source=factory)
    seekable.run()
    snap = seekable.slot.peek()
    assert snap.seekable and snap.duration == pytest.approx(0.29)
    assert made[0].realtime is False  # the engine paces a seekable source itself
    named = Engine(EngineConfig(source="take.mmtm", deterministic=True, snapshots=True), out=io.StringIO(),
                   runner=FakeRunner(), make_source=factory)
    named.run()
    assert not named.slot.peek().seekable and named.slot.peek().duration == 0.0
    named.seek(0.1)
    assert named.slot.peek().error == "seek works in replays of .mmtm recordings only"
