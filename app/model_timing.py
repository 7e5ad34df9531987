"""Timing model calls: the one implementation behind ``main.py bench --model-only`` and
``benchmarks/bench_model.py``.

Each call is timed alone, so a call that another process preempted shows as an outlier instead of
slowing an average; on CUDA the device is synchronised before the clock starts and before it is
read, so a call's time is its whole work, not the time to queue it. Warm-up calls (allocations,
kernel choice, tracing, CUDA graph capture) run first and are not counted.

    fn = runner_call(runner, batch=1)                       # a ModelRunner's step (or window)
    ms = time_calls(fn, rounds=15, warmup=3, cuda=runner.device.type == "cuda")
    summary(ms)                                             # {"median": …, "p95": …, "min": …, "max": …}
"""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    from app.model_runner import ModelRunner


def call_times_ms(fn: Callable[[], object], calls: int, *, cuda: bool = False) -> list[float]:
    """Milliseconds of each of ``calls`` calls of ``fn``, timed one by one."""
    sync = _cuda_synchronize if cuda else _nothing
    out = []
    for _ in range(calls):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        out.append((time.perf_counter() - start) * 1e3)
    return out


def time_calls(fn: Callable[[], object], *, rounds: int, warmup: int = 3, cuda: bool = False) -> list[float]:
    """``warmup`` uncounted calls, then the milliseconds of each of ``rounds`` calls."""
    call_times_ms(fn, warmup, cuda=cuda)
    return call_times_ms(fn, rounds, cuda=cuda)


def time_interleaved(variants: Mapping[str, Callable[[], object]], *, rounds: int, calls: Mapping[str, int],
                     cuda: bool = False, progress: Callable[[str], None] | None = None) -> dict[str, list[float]]:
    """Milliseconds of every call of each variant, ``calls[name]`` calls per round.

    Each variant first warms up with half its calls of a round. Variants with the same call count
    alternate call by call (sample i of each was taken back to back), so paired ratios see the same
    load; groups with different counts run one after the other within a round."""
    for name, fn in variants.items():
        call_times_ms(fn, max(1, calls[name] // 2), cuda=cuda)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    groups: dict[int, list[str]] = {}
    for name in variants:
        groups.setdefault(calls[name], []).append(name)
    for r in range(rounds):
        if progress is not None:
            progress(f"round {r + 1}/{rounds}")
        for count, names in groups.items():
            for _ in range(count):
                for name in names:
                    samples[name] += call_times_ms(variants[name], 1, cuda=cuda)
    return samples


def summary(ms: Sequence[float]) -> dict[str, float]:
    """Median, 95th percentile, minimum and maximum of call times."""
    a = np.asarray(ms, dtype=np.float64)
    return {"median": float(np.median(a)), "p95": float(np.percentile(a, 95)), "min": float(a.min()),
            "max": float(a.max())}


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median of ``a[i] / b[i]`` over calls taken back to back (``time_interleaved``)."""
    return statistics.median(x / y for x, y in zip(a, b))


def runner_call(runner: "ModelRunner", batch: int, *, seed: int = 0) -> Callable[[], None]:
    """One call of ``runner`` for ``batch`` streams on random inputs: a streaming model's ``step``
    (its state carried from call to call, as the worker does) or a windowed model's ``window``."""
    spec = runner.spec
    t = () if runner.streaming else (spec.window,)
    rng = np.random.default_rng(seed)
    shapes = {"rgb": (batch, 3, *t, spec.height, spec.width), "depth": (batch, 1, *t, spec.height, spec.width),
              "skeleton": (batch, spec.skeleton_channels, *t, spec.joints)}
    arrays = {m: rng.standard_normal(shapes[m]).astype(np.float32) for m in runner.modalities}
    present = np.ones((batch, len(runner.modalities)), np.float32)
    if not runner.streaming:
        return lambda: runner.window(arrays, present)
    state = [runner.initial_state(batch)]

    def step() -> None:
        _, state[0] = runner.step(arrays, present, state[0])

    return step


def _cuda_synchronize() -> None:
    import torch

    torch.cuda.synchronize()


def _nothing() -> None:
    pass
