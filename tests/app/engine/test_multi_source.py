"""Several sources through one engine: one shared worker and model, a feed and recogniser each."""

import io
import json
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
from fusion.online import OnlineConfig
from tests.app.engine.fakes import FakeHandSource, FakeRunner
from tests.app.engine_fixtures import tiny_checkpoint, write_moving

pytestmark = pytest.mark.timeout(120)


def lines(out):
    return [json.loads(line) for line in out.getvalue().splitlines()]


def hand_sources(kw_by_name):
    """A make_source factory: FakeHandSource(**kw_by_name[name]); the sources made, by name."""
    made = {}

    def factory(name, sink, realtime):
        made.setdefault(name, []).append(FakeHandSource(sink, **kw_by_name[name]))
        return made[name][-1]

    return factory, made


def test_two_sources_share_one_worker_each_with_its_own_recogniser():
    runner = FakeRunner()
    factory, made = hand_sources({"a": dict(n=90, start=20, end=50), "b": dict(n=60, start=5, end=35)})
    out = io.StringIO()
    engine = Engine(EngineConfig(source="a", extra_sources=("b",), deterministic=True), out=out, runner=runner,
                    make_source=factory)
    summary = engine.run()
    events = lines(out)
    assert [e["type"] for e in events[:2]] == ["start", "start"] and events[-1] == summary
    assert [(e["source"], e["key"]) for e in events[:2]] == [("a", "a"), ("b", "b")]
    gestures = [e for e in events if e["type"] == "gesture"]
    by = {k: [g for g in gestures if g["source"] == k] for k in ("a", "b")}
    # one swipe each, at its own source's time: camera b's gesture never merged into a's
    assert [g["label"] for g in by["a"]] == ["swipe_left"] and [g["label"] for g in by["b"]] == ["swipe_left"]
    assert 0.2 <= by["a"][0]["start"] <= 0.35 and 0.05 <= by["b"][0]["start"] <= 0.2
    assert len(gestures) == 2
    # the top level aggregates both sources (contract 2), one summary per source beside it
    assert summary["decisions"] == 150 and summary["frames"] == {"skeleton": 150}
    assert summary["skipped"] == 0 and summary["events"] == 2 and summary["frame_sets"] == 150
    assert set(summary["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert set(summary["sources"]) == {"a", "b"}
    a, b = summary["sources"]["a"], summary["sources"]["b"]
    assert (a["decisions"], a["frames"], a["events"]) == (90, {"skeleton": 90}, 1)
    assert (b["decisions"], b["frames"], b["events"]) == (60, {"skeleton": 60}, 1)
    assert a["latency_ms"]["max"] is not None and b["skipped"] == 0
    assert runner.calls == 150  # one model, every frame of both
    assert summary["batches"] == {"1": 150}  # deterministic: never batched


def test_the_same_source_twice_gets_two_keys():
    runner = FakeRunner()
    factory, made = hand_sources({"cam": dict(n=20)})
    out = io.StringIO()
    summary = Engine(EngineConfig(source="cam", extra_sources=("cam",), deterministic=True, max_frames=10),
                     out=out, runner=runner, make_source=factory).run()
    assert len(made["cam"]) == 2 and set(summary["sources"]) == {"cam", "cam#2"}
    assert all(s["frame_sets"] == 10 for s in summary["sources"].values())  # max_frames per source
    assert summary["frame_sets"] == 20


class SkeletonSource(SourceThread):
    """``n`` skeleton frames whose content depends only on (seed, index), device time on every one."""

    name = "skeleton-file"

    def __init__(self, sink, *, seed, n=40, gap_s=0.0):
        super().__init__(sink=sink)
        self.seed, self.n, self.gap_s = seed, n, gap_s
        self.stream_info = {"skeleton": StreamInfo("skeleton", width=32, height=24, fps=30.0)}

    def _run(self):
        for i in range(self.n):
            if self.wait(self.gap_s):
                break
            xyz = np.random.default_rng((self.seed, i)).random((21, 3)).astype(np.float32)
            self.emit(Sample("skeleton", Skeleton(image=xyz), i, host_ns=now_ns(), device_ms=i * 1000 / 30))


def skeleton_factory(**kw):
    seeds = {"a": 1, "b": 2}

    def factory(name, sink, realtime):
        return SkeletonSource(sink, seed=seeds[name.split("#")[0]], **kw)

    return factory


def run_collect(runner, source, extra=(), **config):
    """Run headless; logits of each decision by source key, in order, and the summary and lines."""
    by: dict[str, list] = {}
    out = io.StringIO()
    holder = {}

    def on_decision(result, times, events):
        by.setdefault(holder["engine"].source_of(result), []).append((result.frame, result.logits.copy(),
                                                                       result.batch))

    make = config.pop("make", None) or skeleton_factory()
    engine = Engine(EngineConfig(source=source, extra_sources=tuple(extra),
                                 online=OnlineConfig(from_logits=True, start_threshold=0.3, end_threshold=0.2,
                                                     static_hold_s=0.1, ema_tau_s=0.0), **config),
                    out=out, runner=runner, on_decision=on_decision, make_source=make)
    holder["engine"] = engine
    summary = engine.run()
    return by, summary, lines(out)


@pytest.fixture(scope="module")
def streaming_runner(tmp_path_factory):
    ckpt = tiny_checkpoint(tmp_path_factory.mktemp("m") / "m.pt")
    return ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", threads=1, backend="eager", warmup=0))


def test_deterministic_two_sources_repeat_exactly_and_match_each_source_alone(streaming_runner):
    runs = [run_collect(streaming_runner, "a", ["b"], deterministic=True) for _ in range(2)]
    (by1, sum1, lines1), (by2, sum2, lines2) = runs
    for key in ("a", "b"):
        assert [f for f, _, _ in by1[key]] == list(range(40))  # every frame, in order
        assert [(f, x.tobytes()) for f, x, _ in by1[key]] == [(f, x.tobytes()) for f, x, _ in by2[key]]
    gestures = [[g for g in ls if g["type"] == "gesture"] for ls in (lines1, lines2)]
    for key in ("a", "b"):
        assert [g for g in gestures[0] if g["source"] == key] == [g for g in gestures[1] if g["source"] == key]
    assert sum1["skipped"] == 0 and sum1["decisions"] == 80
    assert len({x.tobytes() for _, x, _ in by1["a"]}) > 20  # past the receptive field the scores follow the input
    assert by1["a"][-1][1].tobytes() != by1["b"][-1][1].tobytes()
    # each source's temporal state is its own: the same logits as that source run by itself
    for key in ("a", "b"):
        alone, _, _ = run_collect(streaming_runner, key, deterministic=True)
        assert [x.tobytes() for _, x, _ in alone[key]] == [x.tobytes() for _, x, _ in by1[key]]


class SlowRunner:
    """A real runner whose calls take at least ``delay`` s (so that two sources' jobs queue up)."""

    def __init__(self, runner, delay):
        self._runner, self._delay = runner, delay

    def __getattr__(self, name):
        return getattr(self._runner, name)

    def window(self, windows, present):
        time.sleep(self._delay)
        return self._runner.window(windows, present)


def test_batched_sources_match_the_unbatched_results(tmp_path):
    ckpt = tiny_checkpoint(tmp_path / "w.pt", shape="windowed", temporal_strides=(1, 1, 2, 2))
    runner = ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", threads=1, backend="eager", warmup=0))
    worker = WorkerConfig(stride=1)
    # the reference: each source alone, every window in order (deterministic: never batched)
    reference = {k: {f: x for f, x, _ in run_collect(runner, k, worker=worker, deterministic=True)[0][k]}
                 for k in ("a", "b")}
    assert len(reference["a"]) == 40 - 8 + 1
    # both live, as fast as they come, through a slow model: the worker runs their windows together
    by, summary, _ = run_collect(SlowRunner(runner, 0.02), "a", ["b"], make=skeleton_factory(gap_s=0.004),
                                 worker=WorkerConfig(stride=1, batch_sources=True), realtime=False)
    assert max(b for results in by.values() for _, _, b in results) == 2
    assert summary["batches"].get("2", 0) > 0 and summary["mode"] == "windowed"
    for key in ("a", "b"):
        assert by[key]
        for frame, logits, _ in by[key]:  # a window is stateless: the same frames give the same scores
            np.testing.assert_allclose(logits, reference[key][frame], rtol=1e-4, atol=1e-5)
        one = summary["sources"][key]
        assert one["decisions"] + one["skipped"] == len(reference[key])


def test_a_missing_source_among_several_is_bad_input_before_anything_starts(tmp_path, capsys):
    import main

    ckpt = tiny_checkpoint(tmp_path / "m.pt")
    rec = write_moving(tmp_path / "r.mmtm", n=5)
    before = set(threading.enumerate())
    engine = Engine(EngineConfig(source=str(rec), extra_sources=(str(tmp_path / "none.mmtm"),),
                                 runner=RunnerConfig(model=str(ckpt), device="cpu", backend="eager", warmup=0)),
                    out=io.StringIO())
    with pytest.raises(BadInput):
        engine.start()
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not set(threading.enumerate()) - before
    code = main.main(["replay", str(rec), str(tmp_path / "none.mmtm"), "--headless", "--model", str(ckpt)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and captured.err.count("\n") == 1


def test_replay_of_two_recordings_on_the_command_line(tmp_path, capsys):
    import main

    ckpt = tiny_checkpoint(tmp_path / "m.pt")
    rec = write_moving(tmp_path / "r.mmtm", n=30)
    code = main.main(["replay", str(rec), str(rec), "--headless", "--deterministic", "--model", str(ckpt),
                      "--backend", "eager"])
    assert code == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    summary = out[-1]
    assert summary["type"] == "summary" and set(summary["sources"]) == {"r", "r#2"}
    assert summary["decisions"] == 60 and summary["frames"]["depth"] == 60
    for one in summary["sources"].values():
        assert one["decisions"] == 30 and one["accuracy"]["true"] == 1
    assert summary["accuracy"]["true"] == 2
    assert all("source" in e for e in out if e["type"] == "gesture")
    # one path: the output is as before (no per-source fields)
    assert main.main(["replay", str(rec), "--headless", "--deterministic", "--model", str(ckpt),
                      "--backend", "eager"]) == 0
    single = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "sources" not in single[-1] and "key" not in single[0] and single[-1]["decisions"] == 30


def test_an_unbatched_worker_serves_its_sources_in_turn():
    from app.inference_worker import InferenceWorker
    from tests.app.test_inference_worker import FakeRunner as CountingRunner
    from tests.app.test_inference_worker import job

    runner = CountingRunner(delay=0.02)
    done = {"a": 0, "b": 0}
    worker = InferenceWorker(WorkerConfig(batch_sources=False), runner=runner,
                             on_result=lambda r: done.__setitem__(r.source, done[r.source] + 1))
    worker.add_source("a")
    worker.add_source("b")
    worker.start()
    try:
        for k in range(40):  # both sources faster than the model: each always has a job waiting
            worker.submit(job("a", k, k))
            worker.submit(job("b", k, k))
            time.sleep(0.005)
    finally:
        worker.close()
        worker.join(timeout=10)
    assert max(runner.batches) == 1
    assert done["a"] >= 3 and done["b"] >= 3 and abs(done["a"] - done["b"]) <= 2  # neither starves


def test_a_batch_of_sources_with_different_streams_matches_each_alone(tmp_path):
    from app.inference_worker import InferenceWorker, Job
    from app.latency import StageTimes

    ckpt = tiny_checkpoint(tmp_path / "w.pt", shape="windowed", temporal_strides=(1, 1, 2, 2))
    runner = ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", threads=1, backend="eager", warmup=0))
    spec, T = runner.spec, runner.window_frames
    g = np.random.default_rng(3)
    rgb = g.standard_normal((3, T, spec.height, spec.width)).astype(np.float32)  # (C, T, H, W)
    skeleton = {s: g.standard_normal((spec.skeleton_channels, T, spec.joints)).astype(np.float32) for s in "ab"}
    present = {"a": np.array([m in ("rgb", "skeleton") for m in runner.modalities], np.float32),
               "b": np.array([m == "skeleton" for m in runner.modalities], np.float32)}
    inputs = {"a": {"rgb": rgb, "skeleton": skeleton["a"]}, "b": {"skeleton": skeleton["b"]}}  # b: no camera
    results = {}
    worker = InferenceWorker(WorkerConfig(batch_sources=True), runner=runner,
                             on_result=lambda r: results.__setitem__(r.source, r))
    for s in "ab":
        worker.add_source(s)
        worker.submit(Job(s, inputs[s], present[s], StageTimes(), 0.0, 0))  # queued before the thread runs
    worker.start()
    worker.close()
    worker.join(timeout=10)
    assert results["a"].batch == results["b"].batch == 2
    without_rgb = runner.window({"skeleton": skeleton["a"][None]}, present["a"][None])[0]
    assert not np.allclose(results["a"].logits, without_rgb, atol=1e-3)  # a's camera counts in the batch
    for s in "ab":
        alone = runner.window({m: x[None] for m, x in inputs[s].items()}, present[s][None])[0]
        np.testing.assert_allclose(results[s].logits, alone, rtol=1e-4, atol=1e-5)
