"""``Engine``: opens the sources and the model, runs them, and turns the model's scores into events.

The engine owns one ``InferenceWorker`` and one ``ModelRunner`` shared by every source, and a
``Feed`` per source (``feed.py``). The worker calls ``_on_result`` on its thread for each decision:
the feed's online recogniser turns the scores into gesture events, ``_emit`` prints them (headless),
acts on them (``app.actions``) and marks them for the window, and ``_publish`` puts a ``Snapshot``
into ``slot`` for the window to paint (``window_view.py``).

``Engine`` implements ``app.snapshot.EngineControls`` for the window: open a source, change the
model, pause/step/seek a replay of a seekable source (the engine paces those itself, so that it can
stop and jump), record with label prompts, the event threshold, actions on/off. With several sources
(``EngineConfig.extra_sources``) the first is the *primary* one: the window shows it and the
controls act on it.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from functools import partial
from typing import Callable, Sequence, TextIO

from app.ctrl_c import ctrl_c_flag
from app.engine.config import EngineConfig
from app.engine.feed import Feed
from app.engine.recording import PromptedRecording
from app.engine.source_names import SourceFactory, open_named, unique_key
from app.engine.summary import build_summary
from app.engine.window_view import WindowView
from app.inference_worker import InferenceWorker, Job, Result
from app.latency import LatencyStats, StageTimes
from app.model_runner import ModelRunner, default_model_for
from fusion.errors import BadInput
from fusion.online import GestureEvent


class Engine:
    """Runs one source (or several sharing one worker) through the model; ``run()`` for headless,
    the controls for the window (they act on the primary source)."""

    def __init__(self, config: EngineConfig, *, out: TextIO | None = None, runner: ModelRunner | None = None,
                 make_source: SourceFactory | None = None,
                 on_decision: Callable[[Result, StageTimes, list[GestureEvent]], None] | None = None) -> None:
        self.config = config
        self.out = out if out is not None else sys.stdout
        self._view = WindowView()
        self.slot = self._view.slot  # the window's snapshots (EngineControls)
        self.stats = LatencyStats()
        self.make_source = make_source or partial(open_named, hands=config.hands)
        self.on_decision = on_decision
        self._runner = runner
        self._pinned = runner is not None  # a runner handed in is kept for every source
        self._model_override: str | None = None  # the window's choice of model
        self._lock = threading.RLock()  # the feed, the worker, the recorder: swapped by the controls
        self._out_lock = threading.Lock()
        self._feed: Feed | None = None  # the primary source (the window's)
        self._extras: list[Feed] = []  # the other sources (config.extra_sources)
        self._routes: dict[str, Feed] = {}  # worker key -> feed, replaced whole (read by the worker)
        self._multi = bool(config.extra_sources)
        self._batches: Counter[int] = Counter()  # decisions by the size of the batch they ran in
        self._worker: InferenceWorker | None = None
        self._actions = None
        self._actions_enabled = True
        self._min_score = config.min_score
        self._all_events: list[GestureEvent] = []
        self._error: str | None = None
        self._recording = PromptedRecording(on_error=self._fail)
        self._stopped = threading.Event()
        self.summary: dict | None = None
        self._switch_interval: float | None = None  # the interval to restore at the end

    # --- headless ----------------------------------------------------------------------------------

    def run(self) -> dict:
        """Play the source to its end (or ``max_frames``, or Ctrl-C or SIGTERM); prints JSON lines;
        the summary. Stopped before it started (a signal during start-up): an empty summary."""
        with ctrl_c_flag() as ctrl_c:
            if not ctrl_c.is_set():
                self.start()
            try:
                while not ctrl_c.is_set() and not self._ended(0.05):
                    if self._worker.failed:
                        break
            except KeyboardInterrupt:  # a second Ctrl-C while waiting: end as the first would
                pass
            return self.finish()

    @property
    def feeds(self) -> list[Feed]:
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
        """Open the sources, load the model and the actions, start the threads."""
        if self.config.gil_switch_ms is not None and self._switch_interval is None:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(self.config.gil_switch_ms / 1000.0)
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
        self._recording.stop()
        self._stop_actions()
        self._stopped.set()
        self._restore_switch_interval()
        if error is not None:
            raise error  # no summary line for a run that failed (exit 2 or 1, one line on stderr)
        self.summary = build_summary(
            feeds, several=self._multi, stats=self.stats, worker=worker, runner=self._runner,
            events=len(self._all_events), deterministic=self.config.deterministic, batches=self._batches,
            actions=self._actions.counts() if self._actions is not None else None)
        if self.config.headless:
            self._print(self.summary)
        if feed is not None and self.config.snapshots:
            self._publish(feed, finished=True)
        return self.summary

    def _start_actions(self, runner: ModelRunner) -> None:
        """The actions file, loaded once against the model's labels before any source starts (``_open``)."""
        if self.config.actions and self._actions is None:
            from app.actions.lifecycle import start_actions

            self._actions = start_actions(self.config.actions, runner.labels)

    def _stop_actions(self) -> None:
        if self._actions is not None:
            from app.actions.lifecycle import stop_actions

            stop_actions(self._actions)

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

    def swap_model(self, path: str | None) -> None:
        """Run ``path`` (None: the default model) from the next frame on without reopening the
        sources, when it reads what the running model reads, as it was trained to (a personal model
        taught from it: ``fusion.teach``); otherwise as ``set_model``, which restarts them. The
        actions file stays as loaded for the first model."""
        try:
            with self._lock:
                worker, feed = self._worker, self._feed
                if worker is not None and feed is not None:
                    chosen = path or self.config.runner.model or str(default_model_for(list(feed.source.stream_info)))
                    new = ModelRunner.load(replace(self.config.runner, model=chosen))
                    if new.reads_like(worker.runner):
                        self._runner, self._model_override, self._pinned = new, path, False
                        worker.swap_runner(new)
                        return
        except (BadInput, OSError, ValueError) as error:
            self._fail(str(error))
            return
        self.set_model(path)

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
        try:
            with self._lock:
                feed = self._feed
                self._recording.start(path, feed.source.stream_info if feed is not None else {}, prompt_gestures)
        except (BadInput, OSError, ValueError) as error:
            self._fail(str(error))

    def stop_recording(self) -> None:
        with self._lock:
            self._recording.stop()

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

    def _new_feed(self, name: str, label: str, *, primary: bool, start_s: float = 0.0,
                  paused: bool = False) -> Feed:
        return Feed(name, label=label, config=self.config, make_source=self.make_source,
                    stats=LatencyStats() if self._multi else self.stats, submit=self._submit,
                    record=self._recording.push if primary else None, several=self._multi,
                    start_s=start_s, paused=paused)

    def _open(self, name: str, *, model: str | None = None, start_s: float = 0.0, paused: bool = False,
              extras: Sequence[str] = ()) -> None:
        """(Re)open the primary source ``name``, and at start the ``extras`` beside it. Every new source
        is opened (BadInput here) before the model and the actions load and before any starts. A new model
        (a new worker) restarts the other running sources on it."""
        with self._lock:
            old, old_worker = self._feed, self._worker
            if old is not None:
                self._close_feed(old, old_worker)
            taken = {f.label for f in self._extras}
            feed = None
            opened: list[Feed] = []
            try:
                feed = self._new_feed(name, unique_key(name, taken), primary=True, start_s=start_s, paused=paused)
                opened.append(feed)
                taken.add(feed.label)
                feed.source.open()  # BadInput here; fills stream_info (a camera or video tells it once open)
                for extra in extras:
                    opened.append(self._new_feed(extra, unique_key(extra, taken), primary=False))
                    taken.add(opened[-1].label)
                    opened[-1].source.open()
                wanted = (model if model is not None else self._model_override) or self.config.runner.model
                chosen = wanted or str(default_model_for(list(feed.source.stream_info)))
                runner = self._runner
                if runner is None or (old is not None and not self._pinned and runner.name != chosen):
                    runner = ModelRunner.load(replace(self.config.runner, model=chosen))
                    self._runner = runner
                self._start_actions(runner)
                new_worker = old_worker is None or old_worker.runner is not runner
                if new_worker and self._extras:  # the other sources restart on the new model
                    restart, self._extras = self._extras, []
                    for extra in restart:
                        self._close_feed(extra, old_worker)
                    for extra in restart:
                        opened.append(self._new_feed(extra.name, extra.label, primary=False))
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

    def _close_feed(self, feed: Feed, worker: InferenceWorker | None) -> None:
        """Stop a feed that is being replaced and drop it from the worker."""
        feed.stop()
        try:
            feed.source.join(timeout=5)
        except Exception as error:  # the old source's failure: shown, not fatal to the new one
            self._error = f"{feed.name}: {error}"
        if worker is not None:
            worker.remove_source(feed.key)
        feed.release()

    def _watch_end(self, feed: Feed) -> None:
        """Publish a final snapshot when a source ends by itself (the window shows 'finished')."""
        feed.source.finished.wait()
        worker = self._worker
        deadline = time.monotonic() + 2.0
        while worker is not None and worker.backlog() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._feed is feed and not self._stopped.is_set():
            self._publish(feed, finished=True)

    def _submit(self, job: Job) -> None:  # on a source thread
        self._worker.submit(job)

    # --- the inference thread ----------------------------------------------------------------------

    def _on_result(self, result: Result) -> None:
        feed = self._routes.get(result.source)
        if feed is None:
            return  # a source that was replaced
        if result.runner is not None and result.runner is not feed.runner:  # the first result of a swapped model
            for event in feed.use_runner(result.runner):
                if event.score >= self._min_score:
                    self._emit(feed, event)
        events = feed.decide(result.logits, result.t)
        times = result.times.at("decision")
        shown = []
        for event in events:
            if event.score >= self._min_score:
                self._emit(feed, event)
                shown.append(event)
        self._batches[result.batch] += 1
        if self.config.snapshots and feed is self._feed:
            self._publish(feed, inference_ms=(result.times.infer_end - result.times.infer_start) / 1e6)
        times = times.at("emit")
        self.stats.add(times)
        if feed.stats is not self.stats:
            feed.stats.add(times)
        if self.on_decision is not None:
            self.on_decision(result, times, shown)

    def _emit(self, feed: Feed, event: GestureEvent) -> None:
        self._all_events.append(event)
        feed.events.append(event)
        if feed is self._feed:  # the window shows the primary source's events
            self._view.mark(event)
        if self.config.headless:
            line = event.to_json()
            if self._multi:
                line["source"] = feed.label
            self._print(line)
        if self._actions is not None and self._actions_enabled:
            self._actions.handle(event)

    def _publish(self, feed: Feed, *, inference_ms: float = 0.0, finished: bool = False) -> None:
        self._view.publish(feed, skipped=sum(self._worker.skipped.values()) if self._worker else 0,
                           recording=self._recording.text(), error=self._error, threshold=self._min_score,
                           actions_enabled=self._actions_enabled, inference_ms=inference_ms, finished=finished)

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
