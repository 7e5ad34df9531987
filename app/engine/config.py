"""The engine's configuration: which sources, which model, how to run them."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.hand_tracker import HandTrackerConfig
from app.inference_worker import WorkerConfig
from app.model_runner import RunnerConfig
from app.sync import SyncConfig
from fusion.online import OnlineConfig


@dataclass(frozen=True)
class EngineConfig:
    source: str = "sample"  # a name or path for open_source (sample, a .mmtm, ...): the primary source
    extra_sources: tuple[str, ...] = ()  # more sources run beside it through the same worker and model
    runner: RunnerConfig = field(default_factory=RunnerConfig)  # runner.model None: default_model_for(streams)
    hands: HandTrackerConfig = field(default_factory=HandTrackerConfig)  # MediaPipe, for sources without skeletons
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    online: OnlineConfig | None = None  # None: the recogniser settings stored with the model, else defaults
    # Feed the model only these of the modalities it reads (rgb, depth, skeleton), the rest absent as
    # for a source without them; None: all the source gives (--modalities).
    modalities: tuple[str, ...] | None = None
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
