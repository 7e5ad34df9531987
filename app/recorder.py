"""Records any source to the project's format on a thread of its own, and the ``record`` command.

    recorder = Recorder(RecorderConfig(path="take.mmtm"), stream_info=source.stream_info)
    source = open_source(name, sink=recorder.push)     # or a sink that fans out to several
    recorder.start(); source.start()
    ...
    recorder.add_label("fist", start_ns=t0, end_ns=t1)
    source.stop(); source.join(2); recorder.stop(); recorder.join(5)

``push`` never blocks a live source: samples wait in a bounded queue; when it is full the oldest
waiting sample is dropped and counted (``dropped``). A file source is blocked instead
(``block_when_full``), so that every frame of a file is kept. The thread writes through
``fusion.data.recording.RecordingWriter``; whatever ends it (stop, an error such as a full disk,
Ctrl-C in the caller), the file is finalised as far as the disk allows, and an error reaches ``join``.
"""

from __future__ import annotations

import math
import platform
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping, TextIO

import numpy as np

from app.ctrl_c import ctrl_c_flag
from app.sources.base import now_ns
from fusion.data.sample import Sample, StreamInfo
from app.thread_lifecycle import ThreadLifecycle
from fusion.data.recording import RecordingWriter
from fusion.errors import BadInput


@dataclass(frozen=True)
class RecorderConfig:
    path: str
    lossless: bool = False  # PNG color instead of JPEG (depth is always lossless)
    jpeg_quality: int = 90
    queue_size: int = 512  # samples waiting to be written; beyond it the oldest is dropped, counted
    block_when_full: bool = False  # a file source: push waits for room instead (nothing dropped)
    flush_s: float = 0.25  # how often written chunks reach the OS (what survives a crash)
    overwrite: bool = False  # replace an existing file (never the recording being recorded from)
    meta: dict = field(default_factory=dict)  # device and app metadata stored in the file


class Recorder(ThreadLifecycle):
    """A thread that writes pushed samples to a ``.mmtm`` file. start/stop/join as the sources."""

    name = "recorder"

    def __init__(self, config: RecorderConfig, *, stream_info: Mapping[str, StreamInfo] | None = None) -> None:
        super().__init__()
        self.config = config
        self.stream_info = stream_info if stream_info is not None else {}
        meta = {"host": {"system": platform.system(), "machine": platform.machine(),
                         "python": platform.python_version()}, **config.meta}
        self.writer = RecordingWriter(config.path, meta=meta, lossless=config.lossless,
                                      jpeg_quality=config.jpeg_quality, flush_s=config.flush_s,
                                      overwrite=config.overwrite)
        self._queue: deque = deque()
        self._cond = threading.Condition()
        self._stop = False
        self._described: set[str] = set()
        self.written = 0
        self.dropped = 0
        self.counts: dict[str, int] = {}

    # -- any thread -------------------------------------------------------------------------------

    def push(self, sample: Sample) -> None:
        """The sink: queue a sample for writing (never blocks)."""
        self._put(("sample", sample))

    def add_label(self, label: str, *, start_ns: int, end_ns: int) -> None:
        """A gesture segment, on the clock of the samples' ``host_ns``."""
        self._put(("label", (label, start_ns, end_ns)))

    def add_meta(self, fields: Mapping) -> None:
        self._put(("meta", dict(fields)))

    def stop(self) -> None:
        """Write what is queued, finalise the file, end the thread."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread; re-raise the error that ended it. TimeoutError if still running."""
        if self._thread is None and not self.writer.closed:
            self.writer.close()  # never started: still leave a valid (empty) recording
        super().join(timeout)

    # -- the thread -------------------------------------------------------------------------------

    def _put(self, item: tuple) -> None:
        with self._cond:
            if self.config.block_when_full and item[0] == "sample":
                self._cond.wait_for(lambda: len(self._queue) < self.config.queue_size or self._stop)
            if self._stop:
                return
            if len(self._queue) >= self.config.queue_size and item[0] == "sample":
                for k, queued in enumerate(self._queue):  # drop the oldest waiting sample, keep labels
                    if queued[0] == "sample":
                        del self._queue[k]
                        self.dropped += 1
                        break
            self._queue.append(item)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._queue or self._stop, self.config.flush_s):
                    item = None  # idle: hand what was written to the OS
                elif not self._queue:
                    break  # stopping and everything written
                else:
                    item = self._queue.popleft()
                    self._cond.notify_all()  # room for a push that waits (block_when_full)
            if item is None:
                self.writer.flush()
            else:
                self._write(*item)

    def _cleanup(self) -> None:
        with self._cond:  # an error ended the thread: pushes stop waiting, later ones are ignored
            self._stop = True
            self._cond.notify_all()
        self.writer.close()  # whatever ended the thread, the file is finalised (as far as the disk allows)

    def _write(self, kind: str, value: object) -> None:
        if kind == "label":
            label, start_ns, end_ns = value
            self.writer.add_label(label, start_ns=start_ns, end_ns=end_ns)
        elif kind == "meta":
            self.writer.add_meta(value)
        else:
            sample: Sample = value
            if sample.stream not in self._described:
                self._described.add(sample.stream)
                info = self.stream_info.get(sample.stream)
                if info is not None:
                    self.writer.set_stream(sample.stream, _plain(asdict(info)))
            try:
                self.writer.write(sample.stream, sample.data, index=sample.index, host_ns=sample.host_ns,
                                  device_ms=sample.device_ms)
            except ValueError as error:
                raise BadInput(f"cannot record a {sample.stream} sample: {error}") from None
            self.written += 1
            self.counts[sample.stream] = self.counts.get(sample.stream, 0) + 1


def _plain(value: object) -> object:
    """JSON-safe copy (numpy scalars and arrays to Python numbers and lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# --- the record command ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordConfig:
    out: str
    source: str
    seconds: float | None = None  # None: until the source ends, the prompts are done, or Ctrl-C
    lossless: bool = False
    labels: str = "none"  # "prompt": ask for each gesture in turn and store label segments
    gestures: tuple[str, ...] = ()
    gesture_s: float = 2.0  # how long each prompted gesture is recorded
    pause_s: float = 1.5  # rest between prompts (recorded, unlabelled)
    realtime: bool = True
    overwrite: bool = False


def record(config: RecordConfig, *, log: TextIO | None = None) -> dict:
    """Record ``config.source`` to ``config.out``; returns a summary. Ctrl-C ends it cleanly.

    BadInput (before any file is made) when the options are invalid or the source cannot start; a
    source or a disk that fails later ends the recording with its error, the file finalised as far
    as the disk allows. A file source is never dropped from: it waits for the writer.
    """
    from app.sources.open import open_source

    log = log or sys.stderr
    _check(config)
    out = Path(config.out)
    fan = _Fanout()
    source = open_source(config.source, sink=fan.push, realtime=config.realtime)
    source.open()  # a camera or file that cannot start fails here, before the recording exists
    try:
        recorder = Recorder(RecorderConfig(path=config.out, lossless=config.lossless, overwrite=config.overwrite,
                                           block_when_full=not _is_live(config.source),
                                           meta={"source": config.source, "source_kind": type(source).__name__,
                                                 "command": "record", "argv": sys.argv[1:]}),
                            stream_info=source.stream_info)
    except BaseException:
        source.stop()
        raise
    fan.sinks.append(recorder.push)
    start = time.monotonic()
    prompts = _Prompts(config, recorder, log) if config.labels == "prompt" else None
    interrupted = False
    try:
        with ctrl_c_flag() as ctrl_c:
            recorder.start()
            try:
                source.start()
                last_progress = 0.0
                while not source.finished.is_set() and not recorder.finished.is_set() and not ctrl_c.is_set():
                    elapsed = time.monotonic() - start
                    if config.seconds is not None and elapsed >= config.seconds:
                        break
                    if prompts is not None and prompts.step(elapsed):
                        break
                    if elapsed - last_progress >= 0.5:
                        last_progress = elapsed
                        _progress(log, elapsed, config.seconds, recorder)
                    source.finished.wait(0.05)
            except KeyboardInterrupt:  # a second Ctrl-C or SIGTERM while waiting: end as the first would
                pass
            finally:
                interrupted = ctrl_c.is_set()
                if prompts is not None:
                    prompts.close(now_ns())
                source.stop()
                try:
                    source.join(timeout=5)
                finally:
                    recorder.stop()
                    recorder.join(timeout=30)
    finally:
        _progress(log, time.monotonic() - start, config.seconds, recorder)
        print(file=log, flush=True)  # the error line, if any, starts on a line of its own
        if recorder.written == 0 and not interrupted:
            out.unlink(missing_ok=True)  # the source gave nothing: leave no empty recording behind
    if recorder.written == 0 and not interrupted:
        raise BadInput(f"{config.source} gave no samples to record; {out} was not written")
    return {"type": "record", "path": config.out, "frames": dict(recorder.counts), "written": recorder.written,
            "dropped": recorder.dropped, "labels": prompts.count if prompts else 0,
            "seconds": round(time.monotonic() - start, 3), "interrupted": interrupted}


def _check(config: RecordConfig) -> None:
    """BadInput for options that cannot work, before anything is opened."""
    if config.labels not in ("none", "prompt"):
        raise BadInput(f"--labels must be 'prompt' or 'none', not {config.labels!r}")
    if config.labels == "prompt" and not config.gestures:
        raise BadInput("--labels prompt needs --gestures a,b,c")
    bad = [g for g in config.gestures if not g or not g.replace("_", "").isalnum() or g != g.lower()]
    if bad:
        raise BadInput(f"gesture labels are snake_case words, not {bad}")
    for flag, value in (("--seconds", config.seconds), ("--gesture-seconds", config.gesture_s)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise BadInput(f"{flag} must be a positive number of seconds, not {value}")
    if not (math.isfinite(config.pause_s) and config.pause_s >= 0):
        raise BadInput(f"the pause between prompts must be >= 0 seconds, not {config.pause_s}")
    out = Path(config.out)
    if out.exists() and Path(config.source).exists() and out.resolve() == Path(config.source).resolve():
        raise BadInput(f"cannot record {config.source} onto itself")
    if out.exists() and not out.is_file():
        raise BadInput(f"{out} is not a regular file (a pipe, a device or a folder?); a recording must be a file")
    if out.exists() and not config.overwrite:
        raise BadInput(f"{out} already exists; choose another name or pass --overwrite")


def _is_live(source: str) -> bool:
    """A camera or microphone (frames come whether written or not), not a file (which can wait)."""
    name = source.lower()
    return name in ("webcam", "realsense", "mic", "microphone") or name.startswith(
        ("webcam:", "realsense:", "mic:", "microphone:"))


class _Fanout:
    def __init__(self) -> None:
        self.sinks: list = []

    def push(self, sample: Sample) -> None:
        for sink in self.sinks:
            sink(sample)


class _Prompts:
    """Asks for each gesture in turn: rest, "perform X now", record a segment, next."""

    def __init__(self, config: RecordConfig, recorder: Recorder, log: TextIO) -> None:
        self.config, self.recorder, self.log = config, recorder, log
        self.count = 0
        self._k = 0
        self._active: tuple[str, int] | None = None
        self._next_at = config.pause_s  # seconds since the start

    def step(self, elapsed: float) -> bool:
        """Advance; True when one round of gestures is done and no --seconds was given."""
        if elapsed < self._next_at:
            return False
        if self._active is not None:
            self.close(now_ns())
            self._next_at = elapsed + self.config.pause_s
            print("\nrest", file=self.log, flush=True)
            return self.config.seconds is None and self._k % len(self.config.gestures) == 0
        gesture = self.config.gestures[self._k % len(self.config.gestures)]
        self._k += 1
        print(f"\nperform {gesture} now", file=self.log, flush=True)
        self._active = (gesture, now_ns())
        self._next_at = elapsed + self.config.gesture_s
        return False

    def close(self, end_ns: int) -> None:
        if self._active is not None:
            gesture, start_ns = self._active
            self._active = None
            self.recorder.add_label(gesture, start_ns=start_ns, end_ns=end_ns)
            self.count += 1


def _progress(log: TextIO, elapsed: float, total: float | None, recorder: Recorder) -> None:
    width = 24
    if total:
        done = min(1.0, elapsed / total)
        bar = "#" * int(done * width) + "-" * (width - int(done * width))
        head = f"[{bar}] {elapsed:5.1f}/{total:.1f} s"
    else:
        head = f"{elapsed:6.1f} s"
    counts = " ".join(f"{k} {v}" for k, v in sorted(dict(recorder.counts).items()))
    extra = f", {recorder.dropped} dropped" if recorder.dropped else ""
    print(f"\rrecording {head}  {counts}{extra}", end="", file=log, flush=True)
