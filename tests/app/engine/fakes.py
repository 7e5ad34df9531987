"""Fakes for the engine tests: a cheap exact model and a skeleton source with one swipe."""

import time
from dataclasses import replace

import numpy as np

from app.model_runner import RunnerConfig
from app.sources.base import SourceThread, now_ns
from fusion.data.sample import Sample, Skeleton, StreamInfo
from fusion.labels import DEFAULT_LABELS
from fusion.online import OnlineConfig
from tests.app.engine_fixtures import SPEC


class FakeRunner:
    """A streaming 'model' that calls swipe_left while the hand's x is above 0.5 (cheap, exact)."""

    streaming = True
    modalities = ("skeleton",)
    labels = DEFAULT_LABELS
    spec = replace(SPEC, fps=100.0)  # stepped at its sources' rate: one step per frame (tests of the
    window_frames = SPEC.window        # resampling to a model's own rate are in test_frame_rate.py)
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

    def warm_state(self, frames, present):  # no temporal memory to fill
        return self.initial_state(len(present))

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
