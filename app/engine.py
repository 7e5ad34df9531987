"""The real-time engine: source → sync + ring buffers → inference worker → online recogniser → sinks.

::

    source thread                         inference thread                      sinks (inference thread)
    ─────────────                         ────────────────                      ────────────────────────
    sample ─▶ sink: count, record ─▶ Synchronizer ─▶ ring buffers (preprocessed once, on arrival)
                                          │ frame set
                                          ▼
                                   Job (one frame per modality, or a window every stride)
                                          │ submit (never blocks live capture)
                                          ▼
                                   InferenceWorker ─▶ logits ─▶ OnlineRecognizer ─▶ JSON lines (headless)
                                                                      │                actions (TOML)
                                                                      ▼                LatencyStats
                                                                   Snapshot ─▶ LatestSlot (the window)

Each decision carries ``StageTimes``: capture (the reference frame's host time: when it was read,
for files), arrival (preprocessed, into its buffer), window (job built), infer start/end,
decision (recogniser updated), emit (sinks done). ``LatencyStats`` keeps them per stage.

``Engine`` also implements ``app.snapshot.EngineControls`` for the window: open a source, change
the model, pause/step/seek a replay of a ``.mmtm`` recording (the engine paces those itself, so
that it can stop and jump), record with label prompts, the event threshold, actions on/off.

Several sources (``EngineConfig.extra_sources``, e.g. two cameras) run side by side: each has its
own feed (source thread, sync, ring buffers, pacing, online recogniser, events, counters) under a
unique key (``source_keys``), and they all share ONE ``InferenceWorker`` and ONE ``ModelRunner``
(each source its own temporal state there; batched with ``WorkerConfig.batch_sources`` or on CUDA).
The first source is the *primary* one: the window shows it, and its controls (open, pause, step,
seek, record) act on it. Headless, gesture lines then carry ``"source": key`` and the summary
aggregates all sources, with ``"sources": {key: {...}}`` beside.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence, TextIO

import numpy as np

from app.ctrl_c import ctrl_c_flag
from app.inference_worker import InferenceWorker, Job, Result, WorkerConfig
from app.latency import LatencyStats, StageTimes
from app.model_runner import ModelRunner, RunnerConfig, default_model_for
from app.ring_buffer import RingBuffer
from app.snapshot import EventMark, LatestSlot, Snapshot
from app.sources.base import Sink, SourceThread, now_ns
from fusion.data.sample import Sample, StreamInfo
from app.sync import FrameSet, SyncConfig, Synchronizer
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS, NO_GESTURE
from fusion.metrics import levenshtein, levenshtein_accuracy
from fusion.online import GestureEvent, OnlineConfig, OnlineRecognizer
from fusion.preprocess import preprocess_color, preprocess_depth, preprocess_skeleton

STREAM_MODALITY = {"color": "rgb", "depth": "depth", "skeleton": "skeleton"}
SourceFactory = Callable[[str, Sink, bool], SourceThread]  # (name, sink, realtime) -> a source, not started


@dataclass(frozen=True)
class EngineConfig:
    source: str = "sample"  # a name or path for open_source (sample, a .mmtm, ...): the primary source
    extra_sources: tuple[str, ...] = ()  # more sources run beside it through the same worker and model
    runner: RunnerConfig = field(default_factory=RunnerConfig)  # runner.model None: default_model_for(streams)
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    online: OnlineConfig | None = None  # None: the recogniser settings stored with the model, else defaults
    sync: SyncConfig = field(default_factory=SyncConfig)
    deterministic: bool = False  # files as fast as possible, every frame in order, nothing skipped
    realtime: bool = True  # pace file sources at their recorded rate (ignored when deterministic)
    max_frames: int | None = None  # stop after this many frame sets
    actions: str | None = None  # a gesture → action TOML file
    min_score: float = 0.0  # events below this score are not emitted
    capacity: int = 64  # frames kept per stream
    snapshots: bool = False  # publish a Snapshot per decision (the window reads them)
    headless: bool = True  # print JSON lines (start, gestures, summary) on ``out``
    # Python's GIL switch interval while the engine runs (default 5 ms): a thread that needs the GIL
    # (the inference thread after a step, the source thread after a decode) waits up to this long
    # for the other to let go; 1 ms cuts those waits from the latency tail. None: leave it.
    gil_switch_ms: float | None = 1.0


class Engine:
    """Runs one source (or several sharing one worker) through the model; ``run()`` for headless,
    the controls for the window (they act on the primary source)."""

    def __init__(self, config: EngineConfig, *, out: TextIO | None = None, runner: ModelRunner | None = None,
                 make_source: SourceFactory | None = None,
                 on_decision: Callable[[Result, StageTimes, list[GestureEvent]], None] | None = None) -> None:
        self.config = config
        self.out = out if out is not None else sys.stdout
        self.slot = LatestSlot()
        self.stats = LatencyStats()
        self.make_source = make_source or _open
        self.on_decision = on_decision
        self._runner = runner
        self._pinned = runner is not None  # a runner handed in is kept for every source
        self._lock = threading.RLock()  # the feed, the worker, the recorder: swapped by the controls
        self._out_lock = threading.Lock()
        self._feed: _Feed | None = None  # the primary source (the window's)
        self._extras: list[_Feed] = []  # the other sources (config.extra_sources)
        self._routes: dict[str, _Feed] = {}  # worker key -> feed, replaced whole (read by the worker)
        self._multi = bool(config.extra_sources)
        self._batches: Counter[int] = Counter()  # decisions by the size of the batch they ran in
        self._worker: InferenceWorker | None = None
        self._actions = None
        self._actions_enabled = True
        self._min_score = config.min_score
        self._events: deque[EventMark] = deque(maxlen=32)
        self._all_events: list[GestureEvent] = []
        self._error: str | None = None
        self._recorder = None
        self._recording_path: str | None = None
        self._prompts: tuple[str, ...] = ()
        self._prompt_s = 2.0
        self._stopped = threading.Event()
        self._latency_cache: tuple[int, dict] = (-1, {})
        self.summary: dict | None = None
        self._switch_interval: float | None = None  # the interval to restore at the end

    # --- headless ----------------------------------------------------------------------------------

    def run(self) -> dict:
        """Play the source to its end (or ``max_frames``, or Ctrl-C); prints JSON lines; the summary."""
        with ctrl_c_flag() as ctrl_c:
            self.start()
            try:
                while not ctrl_c.is_set() and not self._ended(0.05):
                    if self._worker.failed:
                        break
            except KeyboardInterrupt:  # a second Ctrl-C while waiting: end as the first would
                pass
            return self.finish()

    @property
    def feeds(self) -> list["_Feed"]:
        """Every running source's feed, the primary one first."""
        return ([self._feed] if self._feed is not None else []) + list(self._extras)

    def source_of(self, result: Result) -> str | None:
        """The source key (as in the JSON lines) of a worker ``Result``; None for a replaced source."""
        feed = self._routes.get(result.source)
        return None if feed is None else feed.label

    def _ended(self, timeout: float) -> bool:
        """Whether every source has ended (or one failed); waits up to ``timeout`` for one."""
        waiting = []
        for feed in self.feeds:
            if not feed.source.finished.is_set():
                waiting.append(feed)
            elif feed.source.failed:
                return True  # a failed source ends the run (its error is raised by finish)
        if not waiting:
            return True
        return waiting[0].source.finished.wait(timeout) and len(waiting) == 1

    def start(self) -> None:
        """Open ``config.source``, load the model, start the threads."""
        if self.config.gil_switch_ms is not None and self._switch_interval is None:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(self.config.gil_switch_ms / 1000.0)
        if self.config.actions:
            from app.actions import ActionDispatcher, load_actions

            self._actions = ActionDispatcher(load_actions(self.config.actions, labels=DEFAULT_LABELS))
            for line in self._actions.warnings:
                print(line, file=sys.stderr)
            self._actions.start()
        try:
            self._open(self.config.source, extras=self.config.extra_sources)
        except BaseException:  # nothing started may outlive a failed start
            self._stop_actions()
            self._restore_switch_interval()
            raise

    def finish(self) -> dict:
        """Drain and stop every thread; print (headless) and return the summary."""
        with self._lock:
            feed, feeds, worker = self._feed, self.feeds, self._worker
        error: BaseException | None = None
        for each in feeds:
            each.stop()
        for each in feeds:
            try:
                each.source.join(timeout=10)
            except BaseException as e:  # a source's error (raised below, unless the worker's came first)
                error = error or e
            each.sync.flush()
        if worker is not None:
            worker.close()
            try:
                worker.join(timeout=30)
            except BaseException as e:  # the model's error: the source only saw its echo at submit
                error = e
        for each in feeds:
            if each.last_t is not None:
                for event in each.recognizer.flush(each.last_t):
                    self._emit(each, event)
        self._stop_recording()
        self._stop_actions()
        self._stopped.set()
        self._restore_switch_interval()
        if error is not None:
            raise error  # no summary line for a run that failed (exit 2 or 1, one line on stderr)
        self.summary = self._summary_of_all(feeds, worker) if self._multi else self._summary(feed, worker)
        if self.config.headless:
            self._print(self.summary)
        if feed is not None and self.config.snapshots:
            self._publish(feed, finished=True)
        return self.summary

    def _stop_actions(self) -> None:
        if self._actions is not None:
            self._actions.stop()
            self._actions.join(timeout=5)

    def _restore_switch_interval(self) -> None:
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None

    # --- EngineControls ----------------------------------------------------------------------------

    def open_source(self, source: str) -> None:
        try:
            self._open(source)
        except (BadInput, OSError, ValueError) as error:
            self._fail(str(error))

    def set_model(self, path: str | None) -> None:
        try:
            with self._lock:
                feed = self._feed
                self._runner = None
                self._pinned = False
                self._model_override = path
                if feed is not None:
                    self._open(feed.name, model=path)
        except (BadInput, OSError, ValueError) as error:
            self._fail(str(error))

    def set_paused(self, paused: bool) -> None:
        feed = self._feed
        if feed is not None:
            feed.pacer.set_paused(paused)
            self._publish(feed)

    def step(self, frames: int) -> None:
        feed = self._feed
        if feed is None:
            return
        if frames < 0:
            if not feed.seekable:
                self._fail("stepping back needs a replay of a .mmtm recording")
                return
            self.seek(max(0.0, (feed.last_t or 0.0) + frames / max(feed.fps, 1.0)))
            self.set_paused(True)
            return
        feed.pacer.step(frames)

    def seek(self, seconds: float) -> None:
        feed = self._feed
        if feed is None:
            return
        if not feed.seekable:
            self._fail("seek works in replays of .mmtm recordings only")
            return
        paused = feed.pacer.paused
        self._open(feed.name, start_s=max(0.0, float(seconds)), paused=paused)

    def start_recording(self, path: str, prompt_gestures: tuple[str, ...] = ()) -> None:
        from app.recorder import Recorder, RecorderConfig

        try:
            with self._lock:
                self._stop_recording()
                feed = self._feed
                info = feed.source.stream_info if feed is not None else {}
                recorder = Recorder(RecorderConfig(path=path), stream_info=info)
                recorder.start()
                self._recorder, self._recording_path = recorder, path
                self._prompts = tuple(prompt_gestures)
                self._prompt_start = now_ns()
                self._prompt_done = 0
        except (BadInput, OSError, ValueError) as error:
            self._fail(str(error))

    def stop_recording(self) -> None:
        with self._lock:
            self._stop_recording()

    def set_threshold(self, score: float) -> None:
        self._min_score = float(score)

    def set_actions_enabled(self, enabled: bool) -> None:
        self._actions_enabled = bool(enabled)

    def shutdown(self) -> None:
        if not self._stopped.is_set():
            try:
                self.finish()
            except BaseException as error:  # shown nowhere else: the window is closing
                print(f"engine: {error}", file=sys.stderr)

    # --- opening -----------------------------------------------------------------------------------

    def _open(self, name: str, *, model: str | None = None, start_s: float = 0.0, paused: bool = False,
              extras: Sequence[str] = ()) -> None:
        """(Re)open the primary source ``name``, and at start the ``extras`` beside it. Every new source
        is opened (BadInput here) before the model loads and before any of them starts. A new model
        (a new worker) restarts the other running sources on it."""
        with self._lock:
            old, old_worker = self._feed, self._worker
            if old is not None:
                self._close_feed(old, old_worker)
            taken = {f.label for f in self._extras}
            feed = None
            opened: list[_Feed] = []
            try:
                feed = _Feed(self, name, label=_unique_key(name, taken), start_s=start_s, paused=paused)
                opened.append(feed)
                taken.add(feed.label)
                feed.source.open()  # BadInput here; fills stream_info (a camera or video tells it once open)
                for extra in extras:
                    opened.append(_Feed(self, extra, label=_unique_key(extra, taken)))
                    taken.add(opened[-1].label)
                    opened[-1].source.open()
                model = model if model is not None else getattr(self, "_model_override", None)
                wanted = model or self.config.runner.model
                chosen = wanted or str(default_model_for(list(feed.source.stream_info)))
                runner = self._runner
                if runner is None or (old is not None and not self._pinned and runner.name != chosen):
                    runner = ModelRunner.load(replace(self.config.runner, model=chosen))
                    self._runner = runner
                new_worker = old_worker is None or old_worker.runner is not runner
                if new_worker and self._extras:  # the other sources restart on the new model
                    restart, self._extras = self._extras, []
                    for extra in restart:
                        self._close_feed(extra, old_worker)
                    for extra in restart:
                        opened.append(_Feed(self, extra.name, label=extra.label))
                        opened[-1].source.open()
                for each in opened:
                    each.attach(runner)
                if new_worker:
                    if old_worker is not None:
                        old_worker.stop()
                        old_worker.join(timeout=10)
                    worker_config = self.config.worker
                    if self.config.deterministic:
                        worker_config = replace(worker_config, deterministic=True)
                    self._worker = InferenceWorker(worker_config, runner=runner, on_result=self._on_result)
                    self._worker.start()
                for each in opened:
                    self._worker.add_source(each.key)
                if old is not None:
                    self._worker.remove_source(old.key)
            except BaseException:
                for each in opened:
                    each.release()
                raise
            self._feed = feed
            self._extras += opened[1:]
            self._routes = {f.key: f for f in self.feeds}
            if self.config.headless:
                for each in opened:
                    self._print(each.start_line())
            for each in opened:
                each.source.start()
            if self.config.snapshots:
                threading.Thread(target=self._watch_end, args=(feed,), name="engine-watch").start()

    def _close_feed(self, feed: "_Feed", worker: InferenceWorker | None) -> None:
        """Stop a feed that is being replaced and drop it from the worker."""
        feed.stop()
        try:
            feed.source.join(timeout=5)
        except Exception as error:  # the old source's failure: shown, not fatal to the new one
            self._error = f"{feed.name}: {error}"
        if worker is not None:
            worker.remove_source(feed.key)
        feed.release()

    def _watch_end(self, feed: "_Feed") -> None:
        """Publish a final snapshot when a source ends by itself (the window shows 'finished')."""
        feed.source.finished.wait()
        worker = self._worker
        deadline = time.monotonic() + 2.0
        while worker is not None and worker.backlog() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._feed is feed and not self._stopped.is_set():
            self._publish(feed, finished=True)

    # --- the inference thread ----------------------------------------------------------------------

    def _on_result(self, result: Result) -> None:
        feed = self._routes.get(result.source)
        if feed is None:
            return  # a source that was replaced
        t = result.t
        if feed.last_t is not None and t <= feed.last_t:
            t = feed.last_t + 1e-6  # the recogniser needs strictly increasing times
        feed.last_t = t
        events = feed.recognizer.update(result.logits, t)
        times = result.times.at("decision")
        shown = []
        for event in events:
            if event.score >= self._min_score:
                self._emit(feed, event)
                shown.append(event)
        feed.decisions += 1
        self._batches[result.batch] += 1
        if self.config.snapshots and feed is self._feed:
            self._publish(feed, inference_ms=(result.times.infer_end - result.times.infer_start) / 1e6)
        times = times.at("emit")
        self.stats.add(times)
        if feed.stats is not self.stats:
            feed.stats.add(times)
        if self.on_decision is not None:
            self.on_decision(result, times, shown)

    def _emit(self, feed: "_Feed", event: GestureEvent) -> None:
        self._all_events.append(event)
        feed.events.append(event)
        if feed is self._feed:  # the window shows the primary source's events
            self._events.append(EventMark(event.label, float(event.score), float(event.t)))
        if self.config.headless:
            line = event.to_json()
            if self._multi:
                line["source"] = feed.label
            self._print(line)
        if self._actions is not None and self._actions_enabled:
            self._actions.handle(event)

    def _publish(self, feed: "_Feed", *, inference_ms: float = 0.0, finished: bool = False) -> None:
        samples = feed.latest
        color = samples.get("color")
        depth = samples.get("depth")
        skeleton = samples.get("skeleton")
        active = feed.recognizer.active
        summary = self._latency()
        info = feed.source.stream_info
        self.slot.put(Snapshot(
            t=feed.last_t or 0.0, frame_index=max(feed.sets - 1, 0),
            color=None if color is None else color.data, depth=None if depth is None else depth.data,
            depth_scale=info["depth"].depth_scale if "depth" in info and info["depth"].depth_scale else 0.001,
            skeleton=None if skeleton is None else skeleton.data,
            labels=feed.recognizer.labels, probs=feed.recognizer.smoothed,
            current=EventMark(active[0], active[1], feed.last_t or 0.0) if active else
            (self._events[-1] if self._events and (feed.last_t or 0) - self._events[-1].t < 1.0 else None),
            events=tuple(self._events), fps=summary.get("fps", {}), inference_ms=inference_ms,
            latency_ms={k: v for k, v in summary.get("latency_ms", {}).items() if k != "n" and v is not None},
            skipped=sum(self._worker.skipped.values()) if self._worker else 0,
            dropped={s: st["dropped"] for s, st in feed.sync.stats().items()},
            device=str(feed.runner.device), backend=feed.runner.backend, source=feed.name,
            model=feed.runner.name, recording=self._recording_text(), paused=feed.pacer.paused,
            seekable=feed.seekable, position=feed.last_t or 0.0, duration=feed.duration, error=self._error,
            finished=finished, threshold=self._min_score, actions_enabled=self._actions_enabled))

    def _latency(self) -> dict:
        """The (primary source's) stats summary, recomputed at most every 15 decisions (percentiles
        cost ~1 ms)."""
        feed = self._feed
        decisions = feed.decisions if feed is not None else 0
        if decisions - self._latency_cache[0] >= 15 or self._latency_cache[0] < 0:
            self._latency_cache = (decisions, (feed.stats if feed is not None else self.stats).summary())
        return self._latency_cache[1]

    # --- recording ---------------------------------------------------------------------------------

    def _record(self, sample: Sample) -> None:
        recorder = self._recorder
        if recorder is None:
            return
        recorder.push(sample)
        if self._prompts and self._prompt_done < len(self._prompts):
            k = int((sample.host_ns - self._prompt_start) / (self._prompt_s * 1e9))
            while self._prompt_done < min(k, len(self._prompts)):
                i = self._prompt_done
                start = self._prompt_start + int(i * self._prompt_s * 1e9)
                recorder.add_label(self._prompts[i], start_ns=start, end_ns=start + int(self._prompt_s * 1e9))
                self._prompt_done += 1

    def _recording_text(self) -> str | None:
        if self._recording_path is None:
            return None
        if self._prompts and self._prompt_done < len(self._prompts):
            return f"{self._recording_path} — now: {self._prompts[self._prompt_done]}"
        return self._recording_path

    def _stop_recording(self) -> None:
        recorder, self._recorder = self._recorder, None
        self._recording_path = None
        if recorder is not None:
            recorder.stop()
            recorder.join(timeout=10)

    # --- output ------------------------------------------------------------------------------------

    def _fail(self, line: str) -> None:
        self._error = line
        if self.config.headless:
            print(f"engine: {line}", file=sys.stderr)
        if self._feed is not None:
            self._publish(self._feed)

    def _print(self, event: dict) -> None:
        with self._out_lock:
            self.out.write(json.dumps(event) + "\n")
            self.out.flush()

    def _summary(self, feed: "_Feed | None", worker: InferenceWorker | None) -> dict:
        stats = self.stats.summary()
        sync = feed.sync.stats() if feed is not None else {}
        latency = {k: (None if v is None else round(v, 3)) for k, v in stats["latency_ms"].items() if k != "n"}
        summary = {
            "type": "summary",
            "frames": dict(feed.frames) if feed is not None else {},
            "dropped": {s: st["dropped"] for s, st in sync.items()},
            "decisions": stats["decisions"],
            "latency_ms": latency,
            "latency_of": "capture_to_decision",
            "stages_ms": {k: {q: (None if x is None else round(x, 3)) for q, x in v.items()}
                          for k, v in stats["stages_ms"].items()},
            "skipped": sum(worker.skipped.values()) if worker is not None else 0,
            "events": len(self._all_events),
            "accuracy": feed.accuracy(feed.events) if feed is not None else None,
        }
        if feed is not None:
            summary.update({
                "frame_sets": feed.sets,
                "reference": feed.sync.reference,
                "missing": {s: st["missing"] for s, st in sync.items()
                            if s != feed.sync.reference and s != "audio"},
                "duplicates": {s: st["duplicates"] for s, st in sync.items()},
                "skew_ms": {s: st["skew_ms"] for s, st in sync.items() if "skew_ms" in st},
                "overwritten_unread": {s: b.overwritten_unread for s, b in feed.sync.buffers.items()},
                "damaged": int(getattr(feed.source, "skipped", 0)),
                "recovery": getattr(feed.source, "recovery", None),
                "fps": stats["fps"],
                "model": feed.runner.describe(),
                "mode": worker.mode if worker is not None else None,
                "deterministic": self.config.deterministic,
                "wall_s": round(time.monotonic() - feed.started, 3),
            })
        if self._actions is not None:
            summary["actions"] = self._actions.counts()
        return summary

    def _summary_of_all(self, feeds: list["_Feed"], worker: InferenceWorker | None) -> dict:
        """Several sources: contract 2's fields over all of them, and ``sources``: one summary each."""
        stats = self.stats.summary()
        per = {f.label: f.summary(worker) for f in feeds}
        frames: Counter[str] = Counter()
        dropped: Counter[str] = Counter()
        fps: Counter[str] = Counter()
        for one in per.values():
            frames.update(one["frames"])
            dropped.update(one["dropped"])
            fps.update(one["fps"])
        truths = [t for t in (f.truth(f.events) for f in feeds) if t is not None]
        accuracy = None
        if truths:  # pooled over the sources with labels: 1 - sum of edit distances / sum of true gestures
            true = sum(len(truth) for truth, _ in truths)
            edits = sum(levenshtein(truth, called) for truth, called in truths)
            called = sum(len(c) for _, c in truths)
            value = max(0.0, 1.0 - edits / true) if true else float(called == 0)
            accuracy = {"levenshtein": round(value, 4), "true": true, "called": called}
        summary = {
            "type": "summary",
            "frames": dict(frames),
            "dropped": dict(dropped),
            "decisions": stats["decisions"],
            "latency_ms": {k: (None if v is None else round(v, 3)) for k, v in stats["latency_ms"].items()
                           if k != "n"},
            "latency_of": "capture_to_decision",
            "stages_ms": {k: {q: (None if x is None else round(x, 3)) for q, x in v.items()}
                          for k, v in stats["stages_ms"].items()},
            "skipped": sum(one["skipped"] for one in per.values()),
            "events": len(self._all_events),
            "accuracy": accuracy,
            "frame_sets": sum(f.sets for f in feeds),
            "fps": {k: round(v, 2) for k, v in fps.items()},
            "model": self._runner.describe() if self._runner is not None else None,
            "mode": worker.mode if worker is not None else None,
            "deterministic": self.config.deterministic,
            "batches": {str(k): n for k, n in sorted(self._batches.items())},
            "wall_s": round(time.monotonic() - min(f.started for f in feeds), 3) if feeds else 0.0,
            "sources": per,
        }
        if self._actions is not None:
            summary["actions"] = self._actions.counts()
        return summary


class _Pacer:
    """Paces a file replay at its recorded rate and lets the window pause, step and seek it.

    Used for ``.mmtm`` recordings, which the engine opens as fast as possible: the sink waits here
    until each sample is due (on the recording's clock) and re-stamps its host time when it is
    released, as a paced source does. Waiting blocks only the file reader. Other sources pace
    themselves; for them pause drops frames (a live camera is never blocked) and seek is refused.
    """

    def __init__(self, *, realtime: bool, blocking: bool, start_s: float, paused: bool) -> None:
        self.realtime = realtime
        self.blocking = blocking  # a file we own the pacing of
        self.start_s = start_s
        self._cond = threading.Condition()
        self.paused = paused
        self._budget = 0  # reference frames to let through while paused
        self._open = False  # paused: the partners of the last stepped reference frame may pass
        self._stopping = False
        self._origin: tuple[int, float] | None = None  # (host ns, recording ms) at the last (re)start

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            self.paused = paused
            self._origin = None  # pacing restarts from the next sample
            self._cond.notify_all()

    def step(self, frames: int) -> None:
        with self._cond:
            self._budget += frames
            self._origin = None
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def admit(self, sample: Sample, reference: bool) -> Sample | None:
        """The sample to pass on (re-stamped), or None to drop it."""
        if not self.blocking:
            if self.paused:
                with self._cond:
                    if self._budget <= 0:
                        return None
                    if reference:
                        self._budget -= 1
            return sample
        t_ms = sample.device_ms if sample.device_ms is not None else sample.host_ns / 1e6
        with self._cond:
            # paused: a stepped reference frame opens the gate for the partners that follow it
            while self.paused and not self._stopping and self._budget <= 0 and (reference or not self._open):
                self._open = False
                self._cond.wait(0.2)
            if self._stopping:
                return None
            if self.paused and reference:
                self._budget -= 1
                self._open = True
            if self.realtime and not self.paused:
                if self._origin is None:
                    self._origin = (now_ns(), t_ms)
                while not self._stopping:
                    if self._origin is None:  # paused or stepped meanwhile: pace from here
                        self._origin = (now_ns(), t_ms)
                    due = self._origin[0] + (t_ms - self._origin[1]) * 1e6
                    wait = (due - now_ns()) / 1e9
                    if wait <= 0 or self.paused:
                        break
                    self._cond.wait(wait)
        return replace(sample, host_ns=now_ns())


class _Feed:
    """One source and its sync, buffers, recogniser, events and counters."""

    def __init__(self, engine: Engine, name: str, *, label: str, start_s: float = 0.0, paused: bool = False) -> None:
        self.engine = engine
        self.name = name
        self.label = label  # the source key in the JSON lines (unique among the engine's sources)
        self.key = f"{name}#{id(self)}"  # the worker's key: unique per feed, so a replaced one's results drop
        self.events: list[GestureEvent] = []
        # several sources: each its own stats (frame rates, latency), the engine's aggregate the decisions
        self.stats = LatencyStats() if engine._multi else engine.stats
        config = engine.config
        realtime = config.realtime and not config.deterministic
        self.seekable = name.lower() == "sample" or name.lower().endswith(".mmtm")
        # .mmtm replays: read as fast as possible, paced (and paused) by the engine; others pace themselves
        self.source = engine.make_source(name, self._sink, realtime and not self.seekable)
        self.pacer = _Pacer(realtime=realtime, blocking=self.seekable, start_s=start_s, paused=paused)
        self.frames: dict[str, int] = {}
        self.latest: dict[str, Sample] = {}
        self.sets = 0
        self.decisions = 0
        self.last_t: float | None = None
        self.t0: float | None = None  # ms on the reference clock of the stream's first frame
        self.clock_device = False
        self.started = time.monotonic()
        self._since_window = 0
        self.limit_reached = False
        self.tracker = None  # MediaPipe on color, for a source without skeletons (RealSense)

    # --- set-up ---------------------------------------------------------------------------------

    def attach(self, runner: ModelRunner) -> None:
        """Called once the source is open (its streams known), before it starts: sync, buffers, recogniser."""
        self.runner = runner
        spec = runner.spec
        info = dict(self.source.stream_info)
        if "skeleton" not in info and "color" in info and "skeleton" in runner.modalities:
            from app.hand_tracker import HandTracker

            self.tracker = HandTracker()  # on the source thread, after each color frame
            c = info["color"]
            info["skeleton"] = StreamInfo("skeleton", c.width, c.height, c.fps)
        self.info = info
        self.streams = [s for s in ("depth", "color", "skeleton") if s in info]
        if not self.streams:
            raise BadInput(f"{self.name}: no video or skeleton stream to recognise gestures from "
                           f"(it has {', '.join(info) or 'nothing'})")
        self.fps = max([info[s].fps for s in self.streams if info[s].fps] or [30.0])
        self.duration = self._duration()
        self.frames = {s: 0 for s in info}
        self._arrival: dict[str, deque] = {s: deque(maxlen=16) for s in self.streams}
        color = info.get("color")
        aspect = color.width / color.height if color is not None and color.width and color.height else None
        depth_scale = info["depth"].depth_scale if "depth" in info and info["depth"].depth_scale else 0.001
        convert = {
            "color": lambda rgb: preprocess_color(rgb, spec),
            "depth": lambda d: preprocess_depth(d, depth_scale, spec),
            "skeleton": lambda sk: None if sk is None else preprocess_skeleton(sk.image, sk.handedness, spec,
                                                                             aspect=aspect),
        }
        shapes = {"color": (3, spec.height, spec.width), "depth": (1, spec.height, spec.width),
                  "skeleton": (spec.skeleton_channels, spec.joints)}
        window = max(runner.window_frames, 2)
        used = [s for s in self.streams if STREAM_MODALITY[s] in runner.modalities]  # what the model reads
        self.buffers = {s: RingBuffer(capacity=max(self.engine.config.capacity, window + 2), shape=shapes[s],
                                      dtype=np.float32, max_window=window) for s in used}
        self.to_array = {s: self._stamped(s, convert[s]) for s in used}
        self.sync = Synchronizer(self.engine.config.sync, streams=list(info), on_set=self._on_set,
                                 buffers=self.buffers, to_array=self.to_array)
        self.present = np.array([1.0 if m in {STREAM_MODALITY[s] for s in used} else 0.0
                                 for m in runner.modalities], np.float32)  # (M,)
        online = self.engine.config.online or runner.online
        self.recognizer = OnlineRecognizer(online, runner.labels)
        self.windowed = not runner.streaming or self.engine.config.worker.mode == "windowed"

    def _stamped(self, stream: str, convert):
        arrivals = self._arrival[stream]

        def run(data):
            out = convert(data)
            arrivals.append(now_ns())
            return out

        return run

    def _duration(self) -> float:
        reader = getattr(self.source, "reader", None)
        if reader is None or not len(reader):
            return 0.0
        stamps = reader.table["host_ns"]
        return float(stamps.max() - stamps.min()) / 1e9

    def start_line(self) -> dict:
        info = self.info
        line = {"type": "start", "source": self.name, "kind": type(self.source).__name__,
                "streams": {s: {k: v for k, v in vars(i).items() if v and k != "stream"} for s, i in info.items()},
                "reference": self.sync.reference, "deterministic": self.engine.config.deterministic,
                "recovery": getattr(self.source, "recovery", None), "model": self.runner.describe(),
                "mode": "windowed" if self.windowed else "streaming"}
        if self.engine._multi:
            line["key"] = self.label
        return line

    def stop(self) -> None:
        self.pacer.stop()
        self.source.stop()
        if self.tracker is not None and self.source.finished.wait(5):
            self.tracker.close()
            self.tracker = None

    def release(self) -> None:
        """Drop the buffers and frames of a feed that was replaced (the source thread has ended):
        feed, source and sync refer to each other, so without this their megabytes of frames would
        wait for a full garbage collection."""
        for buffer in getattr(self, "buffers", {}).values():
            buffer.close()
        self.buffers = {}
        self.latest = {}
        if hasattr(self, "sync"):
            self.sync.buffers = {}
            self.sync.on_set = None
        self.source._sink = _drop

    # --- the source thread ----------------------------------------------------------------------

    def _sink(self, sample: Sample) -> None:
        if self.pacer.stopping:
            return
        if self.t0 is None and sample.stream in self.streams:
            self.clock_device = sample.device_ms is not None
            self.t0 = sample.device_ms if self.clock_device else sample.host_ns / 1e6
        if self.pacer.start_s and self._time_s(sample) < self.pacer.start_s - 1e-4:
            return  # seeking: before the target
        sample = self.pacer.admit(sample, reference=sample.stream == self.sync.reference)
        if sample is None:
            return
        if sample.stream == "skeleton" and sample.data is None:
            self.frames.setdefault("skeleton", 0)
        else:
            self.frames[sample.stream] = self.frames.get(sample.stream, 0) + 1
        if self is self.engine._feed:  # a recording holds the primary source
            self.engine._record(sample)
        if sample.stream in self.streams:
            self.latest[sample.stream] = sample
            self.stats.add_frame(sample.stream, sample.host_ns, index=sample.index)
            if sample.stream not in self.buffers:  # not read by the model: "arrival" is now
                self._arrival[sample.stream].append(now_ns())
        self.sync.push(sample)  # audio: counted there (drops), not buffered
        if self.tracker is not None and sample.stream == "color":
            t_ms = sample.device_ms if sample.device_ms is not None else sample.host_ns / 1e6
            hand = self.tracker.choose(self.tracker.track(sample.data, t_ms))
            self._sink_tracked(Sample("skeleton", hand, sample.index, sample.host_ns, sample.device_ms))

    def _sink_tracked(self, sample: Sample) -> None:
        self.frames["skeleton"] += sample.data is not None
        self.latest["skeleton"] = sample
        self.stats.add_frame("skeleton", sample.host_ns, index=sample.index)
        self.sync.push(sample)

    def _time_s(self, sample: Sample) -> float:
        ms = sample.device_ms if self.clock_device and sample.device_ms is not None else sample.host_ns / 1e6
        return (ms - self.t0) / 1e3

    def _on_set(self, frame_set: FrameSet) -> None:
        limit = self.engine.config.max_frames
        if self.limit_reached:
            return
        if limit is not None and self.sets >= limit:
            self.limit_reached = True
            self.source.stop()
            self.pacer.stop()
            return
        self.sets += 1
        ref = frame_set.samples[frame_set.reference]
        times = StageTimes(stream=ref.stream, capture=ref.host_ns, arrival=self._arrival_of(ref),
                           device_ms=ref.device_ms)
        t = self._time_s(ref)
        if self.windowed:
            self._since_window += 1
            if self._since_window < self.engine.config.worker.stride:
                return
            inputs = self._windows()
            if inputs is None:
                return
            self._since_window = 0
        else:
            inputs = {STREAM_MODALITY[s]: self._row(s, frame_set.samples.get(s)) for s in self.buffers}
        job = Job(self.key, inputs, self.present, times.at("window"), t, self.sets - 1)
        self.engine._worker.submit(job)

    def _arrival_of(self, ref: Sample) -> int | None:
        arrivals = self._arrival.get(ref.stream)
        return arrivals[-1] if arrivals else None

    def _row(self, stream: str, sample: Sample | None) -> np.ndarray:
        """The preprocessed frame of ``sample`` from its buffer (the newest one if the set has none)."""
        buffer = self.buffers[stream]
        n = min(buffer.count, buffer.max_window)
        if n == 0:
            return np.zeros(buffer.shape, np.float32)
        view = buffer.window(n)
        k = n - 1
        if sample is not None:
            hits = np.flatnonzero(view.index == sample.index)
            if hits.size:
                k = int(hits[-1])
        return view.data[k].copy()

    def _windows(self) -> dict[str, np.ndarray] | None:
        """The last T frames of each stream, (C, T, ...) each; None until every stream has T."""
        T = self.runner.window_frames
        if any(b.count < T for b in self.buffers.values()):
            return None
        return {STREAM_MODALITY[s]: np.ascontiguousarray(np.moveaxis(b.latest(T).data, 0, 1))  # (T,C,..) → (C,T,..)
                for s, b in self.buffers.items()}

    # --- results --------------------------------------------------------------------------------

    def truth(self, events: list[GestureEvent]) -> tuple[list[str], list[str]] | None:
        """(true labels of the part played, called labels), in order; None without labels."""
        labels = getattr(self.source, "labels", None)
        if not labels or not self.clock_device or self.t0 is None:
            return None
        end = self.last_t if self.last_t is not None else 0.0
        truth = [seg.label for seg in sorted(labels, key=lambda s: s.start_ns)
                 if seg.label != NO_GESTURE and self.pacer.start_s <= (seg.start_ns / 1e6 - self.t0) / 1e3 <= end]
        called = [e.label for e in sorted(events, key=lambda e: e.t)]
        return truth, called

    def accuracy(self, events: list[GestureEvent]) -> dict | None:
        """Online Levenshtein accuracy against the source's label segments (own recordings)."""
        pair = self.truth(events)
        if pair is None:
            return None
        truth, called = pair
        return {"levenshtein": round(levenshtein_accuracy(truth, called), 4), "true": len(truth),
                "called": len(called)}

    def summary(self, worker: InferenceWorker | None) -> dict:
        """This source's part of a several-source summary."""
        stats = self.stats.summary()
        sync = self.sync.stats()
        return {
            "source": self.name,
            "frames": dict(self.frames),
            "dropped": {s: st["dropped"] for s, st in sync.items()},
            "decisions": self.decisions,
            "skipped": worker.skipped.get(self.key, 0) if worker is not None else 0,
            "events": len(self.events),
            "accuracy": self.accuracy(self.events),
            "latency_ms": {k: (None if v is None else round(v, 3)) for k, v in stats["latency_ms"].items()
                           if k != "n"},
            "frame_sets": self.sets,
            "reference": self.sync.reference,
            "missing": {s: st["missing"] for s, st in sync.items() if s != self.sync.reference and s != "audio"},
            "duplicates": {s: st["duplicates"] for s, st in sync.items()},
            "damaged": int(getattr(self.source, "skipped", 0)),
            "recovery": getattr(self.source, "recovery", None),
            "fps": stats["fps"],
            "wall_s": round(time.monotonic() - self.started, 3),
        }


def _drop(sample: Sample) -> None:
    """The sink of a source whose feed was released."""


def source_keys(names: Sequence[str]) -> list[str]:
    """The keys several sources go by in the JSON lines: a file's stem or the name as typed
    (``sample``, ``webcam:1``), made unique by ``#2``, ``#3``, … (the same file twice: ``sample``,
    ``sample#2``)."""
    taken: set[str] = set()
    keys = []
    for name in names:
        keys.append(_unique_key(name, taken))
        taken.add(keys[-1])
    return keys


def _unique_key(name: str, taken: set[str]) -> str:
    path = Path(name)
    base = path.stem if path.suffix and ":" not in name else name
    key, k = base, 2
    while key in taken:
        key, k = f"{base}#{k}", k + 1
    return key


def _open(name: str, sink: Sink, realtime: bool) -> SourceThread:
    from app.sources.open import open_source

    return open_source(name, sink=sink, realtime=realtime)


def resolve_source(name: str) -> str:
    """``auto``: a RealSense if one is plugged in, else a webcam, else the bundled sample; other
    names pass through (``_open`` checks them)."""
    if name != "auto":
        return name
    try:
        from app.sources.listing import list_cameras, list_realsense
    except ImportError:
        return "sample"
    if list_realsense()["available"]:
        return "realsense"
    if list_cameras(max_cameras=2)["available"]:
        return "webcam"
    return "sample"


def has_display() -> bool:
    """Whether a window can open: a Linux display server, or macOS/Windows, or Qt's offscreen platform."""
    import os

    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"))


def run_engine(config: EngineConfig, *, screenshot: str | None = None) -> int:
    """The ``demo``/``replay`` commands: headless JSON lines, or the Qt window (branch ``ui``)."""
    if config.headless:
        Engine(config).run()
        return 0
    if not has_display():
        if screenshot is None:
            raise BadInput("no display found for the window; run with --headless for JSON lines on stdout")
        import os

        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    try:
        from app.ui import WindowConfig, run_window
    except ImportError:
        raise BadInput("the window is not built into this checkout yet (app/ui); run with --headless") from None
    engine = Engine(config)
    engine.start()
    try:
        return int(run_window(engine, WindowConfig(), screenshot=screenshot, max_frames=config.max_frames) or 0)
    finally:
        engine.shutdown()
