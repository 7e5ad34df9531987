import threading
import time

import numpy as np
import pytest

from app.inference_worker import InferenceWorker, Job, WorkerConfig
from app.latency import StageTimes
from app.model_runner import ModelRunner, RunnerConfig
from tests.app.engine_fixtures import SPEC, tiny_checkpoint


class FakeRunner:
    """A streaming 'model' whose logits count the frames each source has seen (state = a counter)."""

    streaming = True
    modalities = ("skeleton",)

    def __init__(self, delay=0.0, fail_at=None):
        self.delay, self.fail_at = delay, fail_at
        self.batches = []
        self.calls = 0
        self.device = type("D", (), {"type": "cpu"})()

    def initial_state(self, batch=1):
        return [np.zeros((batch, 1), np.float32)]

    def warm_state(self, frames, present):  # no temporal memory to fill: the count starts at 0
        return self.initial_state(len(present))

    def step(self, frames, present, state):
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise ValueError("model exploded")
        time.sleep(self.delay)
        x = frames["skeleton"]  # (B, 1)
        self.batches.append(len(x))
        new = [state[0] + 1.0]
        return np.concatenate([x, new[0]], axis=1), new  # (B, 2): the frame's value, frames seen


def job(source, value, frame):
    return Job(source, {"skeleton": np.array([value], np.float32)}, np.ones(1, np.float32),
               StageTimes(stream="skeleton", capture=time.monotonic_ns()), t=frame / 30, frame=frame)


def collect(worker_config, runner, jobs, *, sources=("a",), submit_gap=0.0):
    results, lock = [], threading.Lock()

    def on_result(r):
        with lock:
            results.append(r)

    worker = InferenceWorker(worker_config, runner=runner, on_result=on_result)
    for s in sources:
        worker.add_source(s)
    worker.start()
    blocked = 0.0
    for j in jobs:
        t0 = time.perf_counter()
        worker.submit(j)
        blocked = max(blocked, time.perf_counter() - t0)
        time.sleep(submit_gap)
    worker.close()
    worker.join(timeout=20)
    return results, worker, blocked


def test_deterministic_processes_every_job_in_order():
    runner = FakeRunner(delay=0.01)
    results, worker, _ = collect(WorkerConfig(deterministic=True, queue=2), runner,
                                 [job("a", k, k) for k in range(20)])
    assert [r.frame for r in results] == list(range(20))
    assert [float(r.logits[1]) for r in results] == [float(k + 1) for k in range(20)]  # state carried
    assert worker.skipped == {"a": 0} and all(r.skipped == 0 for r in results)


def test_live_worker_never_blocks_capture_and_counts_skips():
    runner = FakeRunner(delay=0.1)  # 10 steps a second, submitted at ~100
    n = 30
    results, worker, blocked = collect(WorkerConfig(queue=4), runner, [job("a", k, k) for k in range(n)],
                                       submit_gap=0.005)
    assert blocked < 0.05  # a submit never waits for a 100 ms step
    assert worker.skipped["a"] > 0
    assert worker.skipped["a"] + len(results) == n  # every job either ran or was counted
    assert sum(r.skipped for r in results) == worker.skipped["a"]
    assert results[-1].frame == n - 1  # the newest frame is always processed
    frames = [r.frame for r in results]
    assert frames == sorted(frames)
    # the streaming state moved one step per PROCESSED frame (skipped frames never entered it)
    assert [float(r.logits[1]) for r in results] == [float(k + 1) for k in range(len(results))]


def test_sources_share_one_worker_and_are_batched():
    runner = FakeRunner(delay=0.05)
    jobs = [job(s, k + (100 if s == "b" else 0), k) for k in range(10) for s in ("a", "b")]
    results, worker, _ = collect(WorkerConfig(batch_sources=True), runner, jobs, sources=("a", "b"),
                                 submit_gap=0.01)
    assert max(runner.batches) == 2
    by = {s: [r for r in results if r.source == s] for s in ("a", "b")}
    assert by["a"] and by["b"]
    assert all(float(r.logits[0]) < 100 for r in by["a"]) and all(float(r.logits[0]) >= 100 for r in by["b"])
    for s in ("a", "b"):  # each source has its own state
        assert [float(r.logits[1]) for r in by[s]] == [float(k + 1) for k in range(len(by[s]))]
        assert worker.skipped[s] + len(by[s]) == 10


def test_errors_reach_join_and_submit():
    runner = FakeRunner(fail_at=3)
    worker = InferenceWorker(WorkerConfig(), runner=runner, on_result=lambda r: None)
    worker.add_source("a")
    worker.start()
    for k in range(3):
        worker.submit(job("a", k, k))
        time.sleep(0.05)
    assert worker.finished.wait(5)
    with pytest.raises(RuntimeError, match="failed"):
        worker.submit(job("a", 9, 9))
    with pytest.raises(ValueError, match="exploded"):
        worker.join(timeout=5)


def test_stop_wakes_a_waiting_deterministic_submit():
    runner = FakeRunner(delay=0.5)
    worker = InferenceWorker(WorkerConfig(deterministic=True, queue=1), runner=runner, on_result=lambda r: None)
    worker.add_source("a")
    worker.start()
    done = threading.Event()

    def feed():
        for k in range(5):
            worker.submit(job("a", k, k))
        done.set()

    feeder = threading.Thread(target=feed)
    feeder.start()
    time.sleep(0.1)
    worker.stop()
    assert done.wait(3)
    feeder.join(3)
    worker.join(timeout=5)


def test_real_model_through_the_worker_matches_direct_steps(tmp_path):
    ckpt = tiny_checkpoint(tmp_path / "t.pt")
    runner = ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", warmup=0, threads=1))
    g = np.random.default_rng(0)
    frames = [{"rgb": g.standard_normal((3, SPEC.height, SPEC.width)).astype(np.float32),
               "skeleton": g.standard_normal((8, 21)).astype(np.float32)} for _ in range(10)]
    present = np.array([1, 0, 1], np.float32)
    jobs = [Job("a", f, present, StageTimes(capture=time.monotonic_ns()), k / 30, k) for k, f in enumerate(frames)]
    results, _, _ = collect(WorkerConfig(deterministic=True), runner, jobs)
    state = runner.warm_state({m: x[None] for m, x in frames[0].items()}, present[None])  # as the worker starts
    for r, f in zip(results, frames):
        direct, state = runner.step({m: x[None] for m, x in f.items()}, present[None], state)
        np.testing.assert_allclose(r.logits, direct[0], rtol=1e-6, atol=1e-6)
        assert r.times.infer_start <= r.times.infer_end
