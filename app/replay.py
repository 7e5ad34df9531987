"""Headless replay through the engine: a recording → the model → JSON lines on stdout.

The same path a live source takes (``app.engine``): the source thread pushes samples into a
``Synchronizer``, which preprocesses each once into its ring buffer; each frame set becomes one
model step (or a window every ``stride`` sets) on the inference worker; the online recogniser
turns the scores into gesture events. Lines printed, the summary LAST (ARCHITECTURE.md, contract 2)::

    {"type": "start", "source": ..., "streams": {...}, "reference": ..., "model": {...}, "mode": ...}
    {"type": "gesture", "label": str, "score": float, "t": s, "start": s, "end": s|null, "early": bool}
    {"type": "summary", "frames": {"color": n, "depth": n, "skeleton": n_with_a_hand}, "dropped": {...},
     "decisions": n, "latency_ms": {"p50", "p95", "p99", "max"}, "latency_of": "capture_to_decision",
     "stages_ms": {stage: {...}}, "skipped": n, "events": n, "accuracy": {"levenshtein", "true", "called"}|null,
     "frame_sets": n, "missing": {...}, "duplicates": {...}, "skew_ms": {...}, "damaged": n, ...}

``deterministic``: the file is read as fast as possible and every frame set is stepped in order
(nothing skipped), so two runs print the same gesture lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

from app.engine import Engine, EngineConfig
from app.inference_worker import WorkerConfig
from app.model_runner import RunnerConfig
from app.sync import SyncConfig


@dataclass(frozen=True)
class ReplayConfig:
    path: str
    deterministic: bool = False  # every frame in file order, as fast as possible, nothing skipped
    max_frames: int | None = None  # stop after this many frame sets (reference frames)
    model: str | None = None  # checkpoint; None: the default model for the source's streams
    device: str = "auto"
    backend: str = "auto"
    actions: str | None = None
    capacity: int = 64  # frames kept per stream
    sync: SyncConfig = field(default_factory=SyncConfig)


def replay(config: ReplayConfig, *, out: TextIO | None = None) -> dict:
    """Replay ``config.path`` headless; prints JSON lines on ``out`` (stdout), returns the summary."""
    engine = Engine(EngineConfig(
        source=config.path, runner=RunnerConfig(model=config.model, device=config.device, backend=config.backend),
        worker=WorkerConfig(deterministic=config.deterministic), sync=config.sync,
        deterministic=config.deterministic, max_frames=config.max_frames, actions=config.actions,
        capacity=config.capacity, headless=True), out=out)
    return engine.run()
