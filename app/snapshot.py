"""What the engine shows the window, and what the window may ask of the engine.

The engine's threads never touch a widget. After each decision the engine publishes an immutable
``Snapshot`` into a latest-value slot; the window reads the newest one on a timer (older ones
are simply replaced, never queued). The window drives the engine only through ``EngineControls``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from fusion.data.sample import Skeleton


@dataclass(frozen=True)
class EventMark:
    """A recognised gesture, as the timeline shows it."""

    label: str
    score: float
    t: float  # seconds since the stream's first frame


@dataclass(frozen=True)
class Snapshot:
    """The engine's state at one instant, for display only (arrays must not be written to)."""

    t: float = 0.0  # seconds since the stream's first frame
    frame_index: int = 0
    color: np.ndarray | None = None  # (H, W, 3) uint8 RGB in the camera's own (unmirrored) view
    depth: np.ndarray | None = None  # (H, W) uint16 depth units, aligned to color
    depth_scale: float = 0.001  # metres per depth unit
    skeleton: Skeleton | None = None
    labels: tuple[str, ...] = ()
    probs: np.ndarray | None = None  # (K,) smoothed class probabilities, in the order of labels
    current: EventMark | None = None  # the gesture being shown, if any
    events: tuple[EventMark, ...] = ()  # recent events, oldest first
    fps: dict[str, float] = field(default_factory=dict)  # per stream
    inference_ms: float = 0.0  # last model step
    latency_ms: dict[str, float] = field(default_factory=dict)  # capture -> decision: p50, p95, p99, max
    skipped: int = 0  # frames the worker skipped to catch up
    dropped: dict[str, int] = field(default_factory=dict)  # per stream
    device: str = "cpu"  # "cpu", "cuda:0", ...
    backend: str = "eager"  # "eager", "torchscript", "onnxruntime"
    source: str = ""  # what is playing, for the status bar
    model: str = ""  # which checkpoint
    recording: str | None = None  # the file being recorded, if any
    paused: bool = False
    seekable: bool = False  # a replay: seek and step work
    position: float = 0.0  # replay position in seconds
    duration: float = 0.0  # replay length in seconds (0 when live)
    error: str | None = None  # the last error, shown in the window; the app keeps running
    finished: bool = False  # the source ended
    threshold: float | None = None  # the current score threshold (None: unknown; the window keeps its own)
    actions_enabled: bool | None = None  # whether gesture actions fire (None: unknown)


class LatestSlot:
    """A one-value hand-off: writers replace, readers take the newest (or None if nothing new)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: Snapshot | None = None
        self._version = 0
        self._seen = 0

    def put(self, value: Snapshot) -> None:
        with self._lock:
            self._value = value
            self._version += 1

    def take_new(self) -> Snapshot | None:
        with self._lock:
            if self._version == self._seen:
                return None
            self._seen = self._version
            return self._value

    def peek(self) -> Snapshot | None:
        with self._lock:
            return self._value


class EngineControls(Protocol):
    """What the window may ask of the engine. Every call returns at once (work happens on the
    engine's threads); errors show up in the next ``Snapshot.error``."""

    slot: LatestSlot

    def open_source(self, source: str) -> None:
        """'realsense', 'realsense:SERIAL', 'webcam', 'webcam:N', 'sample', or a file path."""

    def set_model(self, path: str | None) -> None:
        """A checkpoint path, or None for the default model of the current source."""

    def swap_model(self, path: str | None) -> None:
        """Run another model (None: the default) from the next frame on, without reopening the
        source when it reads the same inputs; otherwise as ``set_model``."""

    def set_paused(self, paused: bool) -> None: ...

    def step(self, frames: int) -> None:
        """In a paused replay: advance (or go back, when negative) by ``frames`` frames."""

    def seek(self, seconds: float) -> None:
        """In a replay: jump to ``seconds`` from the start."""

    def start_recording(self, path: str, prompt_gestures: tuple[str, ...] = ()) -> None:
        """Record the current source; with gestures, prompt the user for each in turn."""

    def stop_recording(self) -> None: ...

    def set_threshold(self, score: float) -> None:
        """The minimum score for a gesture event."""

    def set_actions_enabled(self, enabled: bool) -> None: ...

    def shutdown(self) -> None:
        """Stop every thread; called once when the window closes."""
