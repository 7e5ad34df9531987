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
from app.model_runner import ModelRunner, RunnerConfig
from app.sources.base import SourceThread, now_ns
from fusion.data.sample import Sample, Skeleton, StreamInfo
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS
from fusion.online import OnlineConfig
from tests.app.engine_fixtures import SPEC, tiny_checkpoint, write_moving


class FakeRunner:
    """A streaming 'model' that calls swipe_left while the hand's x is above 0.5 (cheap, exact)."""

    streaming = True
    modalities = ("skeleton",)
    labels = DEFAULT_LABELS
    spec = SPEC
    window_frames = SPEC.window
    name = "fake"
    device = type("D", (), {"type": "cpu"})()
    config = RunnerConfig(backend="eager")
    backend = "eager"
    online = OnlineConfig(from_logits=True)

    def __init__(self, delay=0.0, fail_at=None):
        self.delay, self.fail_at, self.calls = delay, fail_at, 0

    def describe(self):
        return {"model": "fake"}

    def initial_state(self, batch=1):
        return [np.zeros((batch, 1), np.float32)]

    def step(self, frames, present, state):
        self.calls += 1
        if self.fail_at == self.calls:
            raise ValueError("model exploded")
        time.sleep(self.delay)
        x = frames["skeleton"][:, 3, 0] + 0.5  # channel 3 = x - 0.5 (mirrored)
        logits = np.zeros((len(x), len(self.labels)), np.float32)
        logits[:, 0] = 5.0
        logits[x < 0.5, self.labels.index("swipe_left")] = 10.0  # mirrored: raw x > 0.5
        return logits, [state[0] + 1]


class FakeHandSource(SourceThread):
    """Skeleton samples at ``fps``: the hand's x is 0.8 in frames [start, end), else 0.2."""

    name = "fake-hand"

    def __init__(self, sink, *, n=90, fps=100.0, start=20, end=50):
        super().__init__(sink=sink)
        self.n, self.fps, self.start_, self.end_ = n, fps, start, end
        self.stream_info = {"skeleton": StreamInfo("skeleton", width=32, height=24, fps=fps)}
        self.emit_s = []

    def _run(self):
        t0 = now_ns()
        for i in range(self.n):
            if self.wait(max(0.0, (t0 + i * 1e9 / self.fps - now_ns()) / 1e9)):
                break
            xyz = np.full((21, 3), 0.8 if self.start_ <= i < self.end_ else 0.2, np.float32)
            xyz[9, 1] += 0.1  # a hand of some size
            start = time.perf_counter()
            self.emit(Sample("skeleton", Skeleton(image=xyz), i, host_ns=now_ns(), device_ms=i * 1000 / self.fps))
            self.emit_s.append(time.perf_counter() - start)


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


def test_replay_in_the_window_saves_a_screenshot(tmp_path, capsys):
    pytest.importorskip("PyQt6")
    import main

    ckpt = tiny_checkpoint(tmp_path / "m.pt")
    rec = write_moving(tmp_path / "r.mmtm", n=30)
    png = tmp_path / "shot.png"
    code = main.main(["replay", str(rec), "--model", str(ckpt), "--backend", "eager", "--screenshot", str(png),
                      "--max-frames", "10"])
    assert code == 0, capsys.readouterr().err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_display_without_headless_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    import main

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    rec = write_moving(tmp_path / "r.mmtm", n=5)
    assert main.main(["replay", str(rec), "--model", "untrained"]) == 2
    err = capsys.readouterr().err
    assert "--headless" in err and err.count("\n") == 1


def test_auto_source_prefers_realsense_then_webcam_then_sample(monkeypatch):
    from app.engine import resolve_source
    from app.sources import listing

    found = {"realsense": False, "cameras": False}
    monkeypatch.setattr(listing, "list_realsense", lambda: {"available": found["realsense"]})
    monkeypatch.setattr(listing, "list_cameras", lambda **kw: {"available": found["cameras"]})
    assert resolve_source("auto") == "sample"
    found["cameras"] = True
    assert resolve_source("auto") == "webcam"
    found["realsense"] = True
    assert resolve_source("auto") == "realsense"
    assert resolve_source("clip.mp4") == "clip.mp4"


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
