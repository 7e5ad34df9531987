"""One source's way into the model: its samples become frame sets, its frame sets become jobs.

::

    source thread: sample ─▶ Feed._sink: pacer (replays) ─▶ counters, recording ─▶ Synchronizer
                   ─▶ ring buffers (images preprocessed once, on arrival) ─▶ Feed._on_set(frame set)
                   ─▶ model steps at the model's rate (fusion.resample: a 15 fps camera gives two
                      steps a frame, a 60 fps one a step every other frame; the hand interpolated)
                   ─▶ Job (its steps, or a window every stride steps) ─▶ the worker's submit

The feed also keeps what the engine needs after the model: the online recogniser, the events, the
decisions, and the true labels to score them against.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable

import numpy as np

from app.engine.config import EngineConfig
from app.engine.pacer import Pacer
from app.engine.source_names import SourceFactory
from app.inference_worker import Job
from app.latency import LatencyStats, StageTimes
from app.model_runner import ModelRunner
from app.ring_buffer import RingBuffer
from app.sources.base import now_ns
from app.sync import FrameSet, Synchronizer
from fusion.data.sample import Sample
from fusion.errors import BadInput
from fusion.labels import NO_GESTURE
from fusion.metrics import levenshtein_accuracy
from fusion.online import GestureEvent, OnlineRecognizer
from fusion.preprocess import preprocess_color, preprocess_depth, preprocess_skeleton
from fusion.resample import SkeletonResampler

STREAM_MODALITY = {"color": "rgb", "depth": "depth", "skeleton": "skeleton"}


class Feed:
    """One source and its sync, buffers, recogniser, events and counters.

    ``stats``: the engine's own for one source, a separate one each for several. ``submit`` hands a
    job to the inference worker; ``record`` (the primary source only) gets every admitted sample.
    """

    def __init__(self, name: str, *, label: str, config: EngineConfig, make_source: SourceFactory,
                 stats: LatencyStats, submit: Callable[[Job], None],
                 record: Callable[[Sample], None] | None = None, several: bool = False,
                 start_s: float = 0.0, paused: bool = False) -> None:
        self.name = name
        self.label = label  # the source key in the JSON lines (unique among the engine's sources)
        self.key = f"{name}#{id(self)}"  # the worker's key: unique per feed, so a replaced one's results drop
        self.config = config
        self.stats = stats
        self.several = several
        self._submit = submit
        self._record = record
        self.events: list[GestureEvent] = []
        realtime = config.realtime and not config.deterministic
        self.source = make_source(name, self._sink, realtime)
        self.seekable = self.source.seekable
        if self.seekable:  # read as fast as possible, paced (and paused) by the engine; others pace themselves
            self.source.set_realtime(False)
        self.pacer = Pacer(realtime=realtime, blocking=self.seekable, start_s=start_s, paused=paused)
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

    # --- set-up ---------------------------------------------------------------------------------

    def attach(self, runner: ModelRunner) -> None:
        """Called once the source is open (its streams known), before it starts: sync, buffers, recogniser."""
        self.runner = runner
        spec = runner.spec
        source = self.source
        fed = self._fed(runner)
        if "skeleton" not in source.stream_info and "color" in source.stream_info and "skeleton" in fed:
            source.track_hands(hands=self.config.hands)  # MediaPipe on each color frame (a RealSense)
        info = dict(source.stream_info)
        self.info = info
        self.streams = [s for s in ("depth", "color", "skeleton") if s in info]
        if not self.streams:
            raise BadInput(f"{self.name}: no video or skeleton stream to recognise gestures from "
                           f"(it has {', '.join(info) or 'nothing'})")
        self.fps = max([info[s].fps for s in self.streams if info[s].fps] or [30.0])
        self.duration = source.duration_s or 0.0
        self.frames = {s: 0 for s in info}
        self._arrival: dict[str, deque] = {s: deque(maxlen=16) for s in self.streams}
        color = info.get("color")
        aspect = color.width / color.height if color is not None and color.width and color.height else None
        depth_scale = info["depth"].depth_scale if "depth" in info and info["depth"].depth_scale else 0.001
        convert = {
            "color": lambda rgb: preprocess_color(rgb, spec),
            "depth": lambda d: preprocess_depth(d, depth_scale, spec),
        }
        shapes = {"color": (3, spec.height, spec.width), "depth": (1, spec.height, spec.width),
                  "skeleton": (spec.skeleton_channels, spec.joints)}
        window = max(runner.window_frames, 2)
        used = [s for s in self.streams if STREAM_MODALITY[s] in fed]  # what the model reads
        if self.config.modalities is not None and not used:
            raise BadInput(f"{self.name}: gives none of --modalities {','.join(self.config.modalities)} "
                           f"(it has {', '.join(self.streams)})")
        capacity = max(self.config.capacity, window + 2)
        images = [s for s in used if s != "skeleton"]  # the skeleton is resampled, then preprocessed per step
        self.buffers = {s: RingBuffer(capacity=capacity, shape=shapes[s], dtype=np.float32, max_window=window)
                        for s in images}
        self.to_array = {s: self._stamped(s, convert[s]) for s in images}
        self.reads_skeleton = "skeleton" in used
        self.clock = SkeletonResampler(spec.fps)
        self._aspect = aspect
        self._handedness: str | None = None
        self.sync = Synchronizer(self.config.sync, streams=list(info), on_set=self._on_set,
                                 buffers=self.buffers, to_array=self.to_array)
        self.present = np.array([1.0 if m in {STREAM_MODALITY[s] for s in used} else 0.0
                                 for m in runner.modalities], np.float32)  # (M,)
        self.recognizer = OnlineRecognizer(self.config.online or runner.online, runner.labels)
        self.windowed = not runner.streaming or self.config.worker.mode == "windowed"
        self.steps = {STREAM_MODALITY[s]: RingBuffer(capacity=capacity, shape=shapes[s], dtype=np.float32,
                                                     max_window=window) for s in used} if self.windowed else {}

    def _stamped(self, stream: str, convert):
        arrivals = self._arrival[stream]

        def run(data):
            out = convert(data)
            arrivals.append(now_ns())
            return out

        return run

    def _fed(self, runner: ModelRunner) -> tuple[str, ...]:
        """The modalities the model is given: those it reads, or those of them ``config.modalities`` names."""
        only = self.config.modalities
        if only is None:
            return tuple(runner.modalities)
        unknown = [m for m in only if m not in STREAM_MODALITY.values()]
        fed = tuple(m for m in runner.modalities if m in only)
        if unknown or not fed:
            raise BadInput(f"--modalities {','.join(only)}: the model reads {','.join(runner.modalities)}")
        return fed

    def start_line(self) -> dict:
        line = {"type": "start", "source": self.name, "kind": type(self.source).__name__,
                "streams": {s: {k: v for k, v in vars(i).items() if v and k != "stream"}
                            for s, i in self.info.items()},
                "reference": self.sync.reference, "deterministic": self.config.deterministic,
                "recovery": self.source.recovery, "model": self.runner.describe(),
                "mode": "windowed" if self.windowed else "streaming",
                "fed": [m for m, on in zip(self.runner.modalities, self.present) if on]}
        if self.several:
            line["key"] = self.label
        return line

    def stop(self) -> None:
        self.pacer.stop()
        self.source.stop()

    def release(self) -> None:
        """Drop the buffers and frames of a feed that was replaced (the source thread has ended):
        feed, source and sync refer to each other, so without this their megabytes of frames would
        wait for a full garbage collection."""
        for buffer in [*getattr(self, "buffers", {}).values(), *getattr(self, "steps", {}).values()]:
            buffer.close()
        self.buffers = {}
        self.steps = {}
        self.latest = {}
        if hasattr(self, "sync"):
            self.sync.buffers = {}
            self.sync.on_set = None
        self.source.set_sink(None)

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
            self.frames.setdefault("skeleton", 0)  # frames.skeleton counts frames with a hand
        else:
            self.frames[sample.stream] = self.frames.get(sample.stream, 0) + 1
        if self._record is not None:
            self._record(sample)
        if sample.stream in self.streams:
            self.latest[sample.stream] = sample
            self.stats.add_frame(sample.stream, sample.host_ns, index=sample.index)
            if sample.stream not in self.buffers:  # not read by the model: "arrival" is now
                self._arrival[sample.stream].append(now_ns())
        self.sync.push(sample)  # audio: counted there (drops), not buffered

    def _time_s(self, sample: Sample) -> float:
        ms = sample.device_ms if self.clock_device and sample.device_ms is not None else sample.host_ns / 1e6
        return (ms - self.t0) / 1e3

    def _on_set(self, frame_set: FrameSet) -> None:
        limit = self.config.max_frames
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
        skeleton = frame_set.samples.get("skeleton")
        hand = None if skeleton is None or skeleton.data is None else skeleton.data
        if hand is not None:
            self._handedness = hand.handedness
        ticks = self.clock.push(self._time_s(ref), None if hand is None else hand.image)
        if not ticks:
            return  # a camera faster than the model: this frame brings no step
        images = {STREAM_MODALITY[s]: self._row(s, frame_set.samples.get(s)) for s in self.buffers}
        steps = [(self._step(images, landmarks), t) for t, landmarks in ticks]
        if not self.windowed:
            (inputs, t), earlier = steps[-1], tuple(steps[:-1])
            self._submit(Job(self.key, inputs, self.present, times.at("window"), t, self.sets - 1, earlier))
            return
        for inputs, t in steps:
            for modality, row in inputs.items():
                self.steps[modality].push(row, index=self.sets - 1, host_ns=ref.host_ns)
            self._since_window += 1
            if self._since_window < self.config.worker.stride:
                continue
            windows = self._windows()
            if windows is not None:
                self._since_window = 0
                self._submit(Job(self.key, windows, self.present, times.at("window"), t, self.sets - 1))

    def _step(self, images: dict[str, np.ndarray], landmarks: np.ndarray | None) -> dict[str, np.ndarray]:
        """One model step's inputs: this frame set's image rows, and the (resampled) hand."""
        if not self.reads_skeleton:
            return images
        row = preprocess_skeleton(landmarks, self._handedness, self.runner.spec, aspect=self._aspect)
        return {**images, "skeleton": row}

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
        """The last T model steps of each modality, (C, T, ...) each; None until every one has T."""
        T = self.runner.window_frames
        if any(b.count < T for b in self.steps.values()):
            return None
        return {m: np.ascontiguousarray(np.moveaxis(b.latest(T).data, 0, 1))  # (T,C,..) → (C,T,..)
                for m, b in self.steps.items()}

    # --- the inference thread -------------------------------------------------------------------

    def use_runner(self, runner: ModelRunner) -> list[GestureEvent]:
        """Decide with ``runner``'s labels and recogniser settings from now on (the worker swapped
        models, ``Engine.swap_model``); the old recogniser's pending events, flushed."""
        flushed = self.recognizer.flush(self.last_t) if self.last_t is not None else []
        self.runner = runner
        self.recognizer = OnlineRecognizer(self.config.online or runner.online, runner.labels)
        return flushed

    def decide(self, logits: np.ndarray, t: float) -> list[GestureEvent]:
        """The recogniser's events for one decision at ``t`` s (made strictly increasing)."""
        if self.last_t is not None and t <= self.last_t:
            t = self.last_t + 1e-6  # the recogniser needs strictly increasing times
        self.last_t = t
        self.decisions += 1
        return self.recognizer.update(logits, t)

    # --- results --------------------------------------------------------------------------------

    def truth(self) -> tuple[list[str], list[str]] | None:
        """(true labels of the part played, called labels), in order; None without labels."""
        labels = self.source.labels
        if not labels or not self.clock_device or self.t0 is None:
            return None
        end = self.last_t if self.last_t is not None else 0.0
        truth = [seg.label for seg in sorted(labels, key=lambda s: s.start_ns)
                 if seg.label != NO_GESTURE and self.pacer.start_s <= (seg.start_ns / 1e6 - self.t0) / 1e3 <= end]
        called = [e.label for e in sorted(self.events, key=lambda e: e.t)]
        return truth, called

    def accuracy(self) -> dict | None:
        """Online Levenshtein accuracy against the source's label segments (own recordings)."""
        pair = self.truth()
        if pair is None:
            return None
        truth, called = pair
        return {"levenshtein": round(levenshtein_accuracy(truth, called), 4), "true": len(truth),
                "called": len(called)}
