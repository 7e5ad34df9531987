"""app/model_timing.py: warm-up not counted, calls timed one by one, variants interleaved call by call,
and the runner's streaming state carried from call to call."""

import time

import numpy as np
import pytest

from app.model_runner import ModelRunner, RunnerConfig
from app.model_timing import call_times_ms, paired_ratio, runner_call, summary, time_calls, time_interleaved
from tests.app.engine_fixtures import tiny_checkpoint


def test_each_call_is_timed_alone_and_warm_up_is_not_counted():
    calls = []

    def fn():
        calls.append(len(calls))
        time.sleep(0.05 if len(calls) == 5 else 0.0)  # the 5th call: the first counted one is slow

    ms = time_calls(fn, rounds=6, warmup=4)
    assert len(calls) == 10 and len(ms) == 6
    assert ms[0] >= 50.0 and ms[0] == max(ms)
    assert call_times_ms(fn, 0) == []


def test_variants_with_the_same_call_count_alternate_call_by_call():
    order = []
    variants = {name: (lambda name=name: order.append(name)) for name in ("a", "b", "slow")}
    samples = time_interleaved(variants, rounds=2, calls={"a": 4, "b": 4, "slow": 1})
    assert order[:5] == ["a", "a", "b", "b", "slow"]  # warm-up: half a round's calls each
    assert order[5:5 + 9] == ["a", "b"] * 4 + ["slow"]  # round 1: a and b back to back, then slow
    assert [len(samples[n]) for n in ("a", "b", "slow")] == [8, 8, 2]


def test_summary_and_paired_ratio():
    s = summary([1.0, 2.0, 3.0, 4.0, 100.0])
    assert s["median"] == 3.0 and s["min"] == 1.0 and s["max"] == 100.0 and 4.0 < s["p95"] < 100.0
    assert paired_ratio([2.0, 4.0, 9.0], [1.0, 1.0, 3.0]) == 3.0


@pytest.mark.parametrize("batch", [1, 3])
def test_runner_call_steps_a_streaming_model_carrying_its_state(tmp_path, batch):
    runner = ModelRunner.load(RunnerConfig(model=str(tiny_checkpoint(tmp_path / "m.pt")), device="cpu",
                                           backend="eager", warmup=0))
    seen = []
    step = runner.step

    def spy(frames, present, state):
        seen.append((next(iter(frames.values())).shape[0], state))
        return step(frames, present, state)

    runner.step = spy
    fn = runner_call(runner, batch)
    fn()
    fn()
    assert [b for b, _ in seen] == [batch, batch]
    assert all(np.array_equal(a, b) for a, b in zip(seen[0][1], runner.initial_state(batch)))
    assert seen[1][1] is not seen[0][1]  # the second call got the state the first returned
