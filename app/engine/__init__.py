"""The real-time engine: a frame's way from the camera to the window's overlay.

Read the files in this order; each holds one step of the way::

    camera / file
      │  app/sources/       one thread per source reads frames and emits samples; a source without
      │                     skeletons gets MediaPipe's hand after each color frame (sources/hands.py)
      ▼
    source_names.py         what the user typed ("auto", "sample", "webcam:1", a path) → a source
    feed.py                 Feed: sample ─▶ pacer.py (replays: pace, pause, step, seek) ─▶ counters,
      │                     recording.py ─▶ Synchronizer ─▶ ring buffers (preprocessed once, on arrival)
      │                     ─▶ frame set ─▶ Job (one frame per modality, or a window every stride)
      │  submit: never blocks a live source
      ▼
    app/inference_worker.py one thread, the model (app/model_runner.py) for every source ─▶ logits
      ▼
    engine.py               Engine._on_result: the feed's OnlineRecognizer ─▶ gesture events ─▶ _emit:
      │                     JSON lines (headless), actions (app/actions/), marks for the timeline
      ▼
    window_view.py          a Snapshot (frame, skeleton, scores, events, timings) ─▶ LatestSlot
      ▼
    app/ui/                 the window takes the newest snapshot on a timer and paints frame + overlay

    summary.py              at the end: the summary, the last JSON line (contract 2)
    config.py               EngineConfig

Each decision carries ``StageTimes``: capture (the reference frame's host time: when it was read,
for files), arrival (preprocessed, into its buffer), window (job built), infer start/end, decision
(recogniser updated), emit (sinks done). ``LatencyStats`` keeps them per stage.

Several sources (``EngineConfig.extra_sources``, e.g. two cameras) run side by side: each has its
own feed under a unique key (``source_keys``), and they all share ONE ``InferenceWorker`` and ONE
``ModelRunner`` (each source its own temporal state there; batched with ``WorkerConfig.batch_sources``
or on CUDA). Headless, gesture lines then carry ``"source": key`` and the summary pools all
sources, with ``"sources": {key: {...}}`` beside.

The engine imports the sources, the worker and ``fusion``, never the window: ``app/ui/run.py``
runs the engine in the window, ``main.py`` headless.
"""

from app.engine.config import EngineConfig
from app.engine.engine import Engine
from app.engine.source_names import SourceFactory, resolve_source, source_keys

__all__ = ["Engine", "EngineConfig", "SourceFactory", "resolve_source", "source_keys"]
