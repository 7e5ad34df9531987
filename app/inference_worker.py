"""The inference worker: one thread that runs the model on the jobs the capture side submits.

    worker = InferenceWorker(WorkerConfig(), runner=runner, on_result=handle)   # handle(Result) on the worker
    worker.add_source("cam0")
    worker.start()
    worker.submit(Job(...))     # capture thread: never blocks (unless deterministic)
    ...
    worker.close()              # finish what is queued, then end; stop() drops it
    worker.join(timeout=5)      # re-raises the error that ended the thread (model or on_result)

Modes (``WorkerConfig.mode``; ``auto`` follows the model's shape): **streaming** — one model step
per frame set; each source keeps its own temporal state (explicit, see ``ModelRunner.step``).
**windowed** — a job is a window of the last T frames, submitted every ``stride`` frame sets.

Backpressure (live): ``submit`` never blocks. Each source has a bounded queue; when the worker
takes work it takes only the NEWEST job of each source and counts the older ones as ``skipped``
(a full queue also drops its oldest job, counted). For a windowed model a skipped window costs
nothing (the next window holds the newest frames). For the streaming model a skipped frame never
enters the causal temporal layers: its state moves on by one step per frame PROCESSED, so after a
skip the model sees frame k and frame k + s + 1 as neighbours, as if the gesture were briefly
faster; the prediction recovers within the receptive field once the worker keeps up again.
Skips are reported so that a run that skipped can be told apart from one that did not.

``deterministic``: every job is processed, in order, one source at a time (no batching); a full
queue makes ``submit`` wait (file replays only: it slows the reader, never a camera), so two runs
over the same input give the same results bit for bit.

Several sources may share one worker; on CUDA (or with ``batch_sources=True``) the newest jobs of
all sources are run as ONE batch (states stacked along the batch axis; a modality one source lacks
is zeros in its row, its ``present`` flag 0). Unbatched, the sources take turns (round robin).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable, Mapping

import numpy as np

from app.latency import StageTimes
from app.model_runner import ModelRunner
from app.thread_lifecycle import ThreadLifecycle

MODES = ("auto", "streaming", "windowed")


@dataclass(frozen=True)
class WorkerConfig:
    mode: str = "auto"  # auto (the model's shape) | streaming | windowed
    stride: int = 4  # windowed: one window every this many frame sets
    deterministic: bool = False  # every job in order, nothing skipped; submit waits when the queue is full
    queue: int = 4  # jobs waiting per source
    batch_sources: bool | None = None  # run the sources' jobs as one batch; None: on CUDA only

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.stride < 1 or self.queue < 1:
            raise ValueError("stride and queue must be at least 1")


@dataclass(frozen=True)
class Job:
    """One unit of work from one source.

    ``inputs``: modality → float32, one preprocessed frame (streaming: rgb (3,H,W), depth (1,H,W),
    skeleton (C,J)) or one window (windowed: rgb (3,T,H,W), depth (1,T,H,W), skeleton (C,T,J));
    a modality left out is fed zeros. ``present`` (M,) 0/1 in the model's modality order.
    ``t``: seconds since the stream's first frame; ``frame``: the frame-set number. ``earlier``:
    model steps that come before this one, ((inputs, t), …) in order (streaming: a camera slower
    than the model's rate gives several steps per frame, ``fusion.resample``); they run first, in
    the same call, each with its own ``Result``, so that a busy worker skips whole frames only.
    """

    source: str
    inputs: Mapping[str, np.ndarray]
    present: np.ndarray
    times: StageTimes
    t: float
    frame: int
    earlier: tuple[tuple[Mapping[str, np.ndarray], float], ...] = ()


@dataclass(frozen=True)
class Result:
    source: str
    logits: np.ndarray  # (K,) float32
    times: StageTimes  # stamped up to infer_end
    t: float
    frame: int
    skipped: int  # jobs of this source skipped just before this one
    batch: int  # jobs run together in this call
    runner: ModelRunner | None = None  # the model that made it (it changes with ``swap_runner``)


class InferenceWorker(ThreadLifecycle):
    """Runs ``runner`` on submitted jobs on its own thread and hands each ``Result`` to ``on_result``."""

    name = "inference"

    def __init__(self, config: WorkerConfig, *, runner: ModelRunner,
                 on_result: Callable[[Result], None]) -> None:
        super().__init__()
        self.config = config
        self.runner = runner
        self.on_result = on_result
        mode = config.mode if config.mode != "auto" else ("streaming" if runner.streaming else "windowed")
        if mode == "streaming" and not runner.streaming:
            raise ValueError("streaming mode needs a streaming model (this one is windowed)")
        self.mode = mode
        batch = config.batch_sources
        self.batching = (runner.device.type == "cuda" if batch is None else batch) and not config.deterministic
        self._cond = threading.Condition()
        self._queues: dict[str, deque[Job]] = {}
        self._states: dict[str, list] = {}
        self.skipped: dict[str, int] = {}
        self.processed: dict[str, int] = {}
        self.infer_ms: deque[float] = deque(maxlen=4096)  # model time of each call
        self._pending_skips: dict[str, int] = {}
        self._turn = 0  # round robin over the sources (unbatched): no source starves another
        self._stopping = False
        self._closing = False
        self._next_runner: ModelRunner | None = None

    # --- any thread ------------------------------------------------------------------------------

    def add_source(self, source: str) -> None:
        with self._cond:
            self._queues.setdefault(source, deque())
            self.skipped.setdefault(source, 0)
            self.processed.setdefault(source, 0)
            self._pending_skips.setdefault(source, 0)
            self._states.pop(source, None)

    def reset_source(self, source: str) -> None:
        """Forget a source's temporal state and queued jobs (a seek, a new recording)."""
        with self._cond:
            self._queues.get(source, deque()).clear()
            self._states.pop(source, None)

    def remove_source(self, source: str) -> None:
        with self._cond:
            self._queues.pop(source, None)
            self._states.pop(source, None)

    def submit(self, job: Job) -> None:
        """Queue a job. Live: never blocks (a full queue drops its oldest job, counted as skipped).
        Deterministic: waits for room. Raises the worker's error if it has died."""
        with self._cond:
            if self._error is not None:
                raise RuntimeError("the inference worker failed") from self._error
            queue = self._queues.get(job.source)
            if queue is None:
                raise KeyError(f"unknown source {job.source!r}; add_source() it first")
            if self.config.deterministic:
                self._cond.wait_for(lambda: len(queue) < self.config.queue or self._stopping
                                    or self._error is not None)
                if self._stopping or self._error is not None:
                    return
            elif len(queue) >= self.config.queue:
                queue.popleft()
                self.skipped[job.source] += 1
                self._pending_skips[job.source] += 1
            queue.append(job)
            self._cond.notify_all()

    def swap_runner(self, runner: ModelRunner) -> None:
        """Run ``runner`` from the next call on (a model that reads the same inputs in the same way:
        the engine checks). The sources' temporal states start afresh, warm from their next frame;
        results say which runner made them."""
        if not runner.reads_like(self.runner):
            raise ValueError("a swapped model must take the running one's inputs")
        with self._cond:
            self._next_runner = runner

    def backlog(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._queues.values())

    def stop(self) -> None:
        """End now; queued jobs are dropped (wakes a waiting submit)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def close(self) -> None:
        """End once the queued jobs are done (the live rule still keeps only the newest of each)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    # --- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            jobs = self._take()
            if jobs is None:
                break
            self._infer(jobs)

    def _set_error(self, error: BaseException) -> None:
        with self._cond:
            super()._set_error(error)
            self._cond.notify_all()  # a deterministic submit waiting for room returns

    def _take(self) -> list[tuple[Job, int]] | None:
        """The next jobs to run with the skips before each, or None to end."""
        with self._cond:
            self._cond.wait_for(lambda: self._stopping or self._closing or any(self._queues.values()))
            if self._stopping or not any(self._queues.values()):
                return None  # stopped, or closing with nothing left
            taken = []
            sources = list(self._queues)
            first = self._turn % len(sources)
            for k in range(len(sources)):  # round robin: the source after the last one served goes first
                source = sources[(first + k) % len(sources)]
                queue = self._queues[source]
                if not queue:
                    continue
                self._turn = first + k + 1
                if self.config.deterministic:
                    taken.append((queue.popleft(), 0))
                    break  # one job at a time, in each source's own order
                skipped = len(queue) - 1
                job = queue.pop()
                queue.clear()
                self.skipped[source] += skipped
                taken.append((job, self._pending_skips[source] + skipped))
                self._pending_skips[source] = 0
                if not self.batching:
                    break
            self._cond.notify_all()  # room in the queues
            return taken

    def _infer(self, taken: list[tuple[Job, int]]) -> None:
        with self._cond:
            if self._next_runner is not None:  # between two calls: nothing is half done
                self.runner, self._next_runner = self._next_runner, None
                self._states.clear()
        runner = self.runner
        jobs = [job for job, _ in taken]
        start = time.monotonic_ns()
        inputs = {}
        for m in runner.modalities:  # (B, ...); a job without m (its source lacks it) gets zeros there
            have = [j.inputs.get(m) for j in jobs]
            like = next((x for x in have if x is not None), None)
            if like is not None:
                inputs[m] = np.stack([x if x is not None else np.zeros_like(like) for x in have])
        present = np.stack([j.present for j in jobs]).astype(np.float32)  # (B, M)
        if self.mode == "streaming":
            states = []
            for k, j in enumerate(jobs):
                state = self._states.get(j.source)
                if state is None:  # a new stream starts as if its first frame had been held before it
                    first = j.earlier[0][0] if j.earlier else j.inputs
                    frames = {m: x[None] for m, x in first.items() if m in runner.modalities}
                    state = runner.warm_state(frames, present[k:k + 1])
                states.append(state)
            for k, job in enumerate(jobs):  # the steps before each job's own, one source at a time
                for step_inputs, t in job.earlier:
                    frames = {m: x[None] for m, x in step_inputs.items() if m in runner.modalities}
                    early, states[k] = runner.step(frames, present[k:k + 1], states[k])
                    self.on_result(Result(job.source, early[0], replace(job.times, infer_start=start,
                                                                        infer_end=time.monotonic_ns()),
                                          t, job.frame, 0, 1, runner))
            logits, state = runner.step(inputs, present, ModelRunner.stack_states(states))
            for j, s in zip(jobs, ModelRunner.split_state(state, [1] * len(jobs))):
                if j.source in self._queues:
                    self._states[j.source] = s
        else:
            logits = runner.window(inputs, present)
        end = time.monotonic_ns()
        self.infer_ms.append((end - start) / 1e6)
        for k, (job, skipped) in enumerate(taken):
            self.processed[job.source] = self.processed.get(job.source, 0) + 1
            times = replace(job.times, infer_start=start, infer_end=end)
            self.on_result(Result(job.source, logits[k], times, job.t, job.frame, skipped, len(jobs), runner))
