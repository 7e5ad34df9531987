"""``python main.py eval --real DIR``: a model on real footage, every item the way the app runs it.

The folder's ``manifest.json`` (``fusion.data.readers.real``) lists the items:

- **photos**: MediaPipe's HandLandmarker on the photo (IMAGE mode; the hand that would drive the
  model, ``HandTracker.choose``), then the photo held still in front of the model for ``hold_s``
  seconds at the model's frame rate, through the online recogniser with the model's own settings;
- **landmark files** (MediaPipe's ``*.pbtxt``) and **keypoint tables**: the same held-still run
  from the stored landmarks, through the model's own preprocessing (a table row has no z; its rows
  are evaluated on the blocks that ``table_split`` keeps out of training);
- **videos**: end to end through the engine, exactly as ``replay --deterministic`` runs them
  (``app.engine``: video source, MediaPipe, resampling to the model's rate, worker, recogniser).

A held-still item is *called* the label of the first event the recogniser emits, ``no_gesture``
when it emits none. A held item or table label that the model does not know (a pose named for what
it is: ``ok``, ``call``, ``rock`` …) is a pose to stay quiet on, as ``no_gesture`` is: it is expected
to be called ``no_gesture`` and keeps its own name as ``pose``. Headline figures: ``static_top1``
(photos and landmark files of the six static gestures), ``oov_quiet`` (held items and table rows
expected to be ``no_gesture`` — hand poses outside the vocabulary — that stay quiet), ``table_top1``
(table rows of static gestures), and ``video_levenshtein``: over all videos, 1 − Σ edit distance /
Σ true gestures between the gestures made and the events called, labels a video ``allowed`` left
out of the calls.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.model_runner import ModelRunner, RunnerConfig, default_model_for
from fusion.data.readers.real import (RealManifest, read_landmarks_pbtxt, read_manifest, read_table, table_aspect,
                                      table_hands, table_split)
from fusion.errors import BadInput
from fusion.labels import NO_GESTURE, STATIC_GESTURES
from fusion.metrics import levenshtein
from fusion.online import OnlineRecognizer
from fusion.preprocess import preprocess_color, preprocess_skeleton

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REAL = ROOT.parent / "shared" / "data" / "real"
BATCH = 256  # held-still items stepped together


@dataclass(frozen=True)
class RealEvalConfig:
    root: str = str(DEFAULT_REAL)  # a folder with manifest.json
    model: str | None = None       # None: the model the app runs for a camera without depth
    hold_s: float = 1.5            # how long a photo or landmark set is held in front of the model
    table_every: int = 1           # evaluate every k-th held-out table row (1: all)
    online: tuple[str, ...] = ()   # NAME=VALUE recogniser settings over the model's stored ones
    modalities: tuple[str, ...] | None = None  # give the model only these (None: all it reads), as --modalities
    progress: bool = True


@dataclass(frozen=True)
class Held:
    """One held-still hand: landmarks (21, 3) in the unmirrored image, or None when none was found."""

    image: np.ndarray | None
    handedness: str | None
    aspect: float
    rgb: np.ndarray | None = None  # the photo, for models with an rgb stream


def evaluate_real(config: RealEvalConfig) -> dict:
    """The report (see the module docstring): items, headline figures, the model."""
    manifest = read_manifest(config.root)
    if not len(manifest):
        raise BadInput(f"{config.root}/manifest.json lists no items")
    model = config.model or str(default_model_for(["color", "skeleton"]))
    runner = ModelRunner.load(RunnerConfig(model=model, online=config.online))
    if not runner.streaming or "skeleton" not in runner.modalities:
        raise BadInput(f"{model}: real footage is evaluated with a streaming model that reads the skeleton")
    if config.modalities is not None and ("skeleton" not in config.modalities or
                                          not set(config.modalities) <= {"rgb", "depth", "skeleton"}):
        raise BadInput(f"--modalities {','.join(config.modalities)}: real footage is read as hand skeletons; "
                       f"give skeleton, and rgb or depth if you like")
    items = _stills(runner, manifest, config) + _tables(runner, manifest, config) + _videos(manifest, model, config)
    return {"root": str(config.root), "model": runner.describe(), "hold_s": config.hold_s, "items": items,
            **_headline(items)}


# --- held-still items ----------------------------------------------------------------------------

def _stills(runner: ModelRunner, manifest: RealManifest, config: RealEvalConfig) -> list[dict]:
    held, rows = [], []
    for landmark in manifest.landmarks:
        hand = read_landmarks_pbtxt(landmark.path)
        held.append(Held(hand.image, hand.handedness, aspect=1.0))  # the files keep no image size: square
        rows.append({"kind": "landmarks", "file": _name(landmark.path, manifest),
                     **_expected(landmark.label, runner.labels)})
    if manifest.photos:
        from app.hand_tracker import HandTracker, HandTrackerConfig

        with_rgb = config.modalities is None or "rgb" in config.modalities
        with HandTracker(HandTrackerConfig(still=True, max_hands=2)) as tracker:
            for photo in manifest.photos:
                rgb = _read_photo(photo.path)
                hand = tracker.choose(tracker.track(rgb, 0.0))
                held.append(Held(None if hand is None else hand.image, None if hand is None else hand.handedness,
                                 aspect=rgb.shape[1] / rgb.shape[0], rgb=rgb if with_rgb else None))
                rows.append({"kind": "photo", "file": _name(photo.path, manifest),
                             **_expected(photo.label, runner.labels),
                             **({} if hand is not None else {"note": "no hand found"})})
    for row, (called, score) in zip(rows, hold_still(runner, held, config.hold_s)):
        row.update(called=called, score=round(score, 3))
    return rows


def _tables(runner: ModelRunner, manifest: RealManifest, config: RealEvalConfig) -> list[dict]:
    out = []
    for table in manifest.tables:
        name = _name(table.path, manifest)
        if table.kind != "keypoints":
            out.append({"kind": "table", "file": name, "expected": None, "called": None, "score": None,
                        "note": "skipped: fingertip tracks, not a hand the model can see"})
            continue
        rows, labels = read_table(table)
        _, held_out = table_split(labels)
        held_out = held_out[::config.table_every]
        hands = table_hands(rows[held_out])
        calls = hold_still(runner, [Held(h, None, table_aspect()) for h in hands], config.hold_s,
                           label=f"{table.path.name} ({len(held_out)} held-out rows)" if config.progress else None)
        expected = [labels[i] for i in held_out]
        for label in sorted(set(expected)):
            got = Counter(c for (c, _), e in zip(calls, expected) if e == label)
            n = sum(got.values())
            named = _expected(label, runner.labels)
            right = got[named["expected"]]
            out.append({"kind": "table", "file": name, **named, "rows": n, "right": right,
                        "called": got.most_common(1)[0][0], "score": round(right / n, 3),
                        "calls": dict(got.most_common(4))})
    return out


def _expected(label: str, known: tuple[str, ...]) -> dict:
    """What a held item labelled ``label`` should be called: the label, or ``no_gesture`` (with the label kept
    as ``pose``) for one the model does not know."""
    return {"expected": label} if label in known else {"expected": NO_GESTURE, "pose": label}


def hold_still(runner: ModelRunner, held: list[Held], seconds: float, *, label: str | None = None
               ) -> list[tuple[str, float]]:
    """(called label, its score) for each held hand: the first event of the online recogniser while
    the hand is held still for ``seconds``, or (``no_gesture``, its smoothed score) when none comes."""
    steps = max(1, int(round(seconds * runner.spec.fps)))
    bar = None
    if label is not None and len(held) > BATCH:
        from fusion.progress import Progress

        bar = Progress(len(held), label=label)
    out: list[tuple[str, float]] = []
    for first in range(0, len(held), BATCH):
        out += _hold_batch(runner, held[first:first + BATCH], steps)
        if bar:
            bar.update(len(out))
    return out


def _hold_batch(runner: ModelRunner, held: list[Held], steps: int) -> list[tuple[str, float]]:
    spec, B = runner.spec, len(held)
    frames = {"skeleton": np.stack([preprocess_skeleton(h.image, h.handedness, spec, aspect=h.aspect) for h in held])}
    present = np.ones((B, len(runner.modalities)), np.float32)
    if "depth" in runner.modalities:
        present[:, runner.modalities.index("depth")] = 0.0
    if "rgb" in runner.modalities:
        rgb = [h.rgb for h in held]
        column = runner.modalities.index("rgb")
        present[:, column] = [x is not None for x in rgb]
        frames["rgb"] = np.stack([preprocess_color(x, spec) if x is not None else
                                  np.zeros((3, spec.height, spec.width), np.float32) for x in rgb])
    state = runner.warm_state(frames, present)  # held still before the run starts, too
    recognizers = [OnlineRecognizer(runner.online, runner.labels) for _ in held]
    first: list[tuple[str, float] | None] = [None] * B
    for k in range(steps):
        logits, state = runner.step(frames, present, state)
        t = k / spec.fps
        for b, recognizer in enumerate(recognizers):
            events = recognizer.update(logits[b], t)
            if events and first[b] is None:
                first[b] = (events[0].label, float(events[0].score))
    quiet = []
    for recognizer in recognizers:
        smoothed = recognizer.smoothed
        top = int(np.argmax(smoothed)) if smoothed is not None else 0
        quiet.append((NO_GESTURE, float(smoothed[top]) if smoothed is not None else 0.0))
    return [f if f is not None else q for f, q in zip(first, quiet)]


def _read_photo(path: Path) -> np.ndarray:
    import cv2

    if not path.is_file():
        raise BadInput(f"{path}: no such photo")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise BadInput(f"{path}: not a readable image")
    return np.ascontiguousarray(bgr[:, :, ::-1])


# --- videos --------------------------------------------------------------------------------------

def _videos(manifest: RealManifest, model: str, config: RealEvalConfig) -> list[dict]:
    from app.engine import Engine, EngineConfig
    from app.inference_worker import WorkerConfig

    out = []
    for video in manifest.videos:
        if not video.path.is_file():
            raise BadInput(f"{video.path}: no such video")
        lines = io.StringIO()
        engine = Engine(EngineConfig(source=str(video.path), runner=RunnerConfig(model=model, online=config.online),
                                     modalities=config.modalities, deterministic=True,
                                     worker=WorkerConfig(deterministic=True), headless=True),
                        out=lines,
                        make_source=_video_source(video.mirrored))
        engine.run()
        events = [e for e in map(json.loads, lines.getvalue().splitlines()) if e.get("type") == "gesture"]
        truth = [segment.label for segment in video.sequence]
        called = [e["label"] for e in events if e["label"] not in video.allowed]
        fps = video.fps or 30.0
        out.append({"kind": "video", "file": _name(video.path, manifest), "expected": " ".join(truth) or "-",
                    "called": " ".join(called) or "-", "edits": levenshtein(truth, called), "true": len(truth),
                    "score": round(max(0.0, 1 - levenshtein(truth, called) / len(truth)), 3) if truth else
                    float(not called),
                    "events": [{"label": e["label"], "frame": int(round(e["t"] * fps)), "score": e["score"]}
                               for e in events]})
        if config.progress:
            import sys

            print(f"eval --real: {video.path.name}: {out[-1]['called']}", file=sys.stderr)
    return out


def _video_source(mirrored: bool):
    """The engine's source factory for a manifest's video: as ``replay`` opens it, flipped back to the
    camera's own view when the file holds the selfie view."""
    from app.sources.video import VideoConfig, VideoSource

    def make(name: str, sink, realtime: bool) -> VideoSource:
        return VideoSource(VideoConfig(path=name, real_time=realtime, mirrored=mirrored), sink=sink)

    return make


# --- figures -------------------------------------------------------------------------------------

def _headline(items: list[dict]) -> dict:
    single = [i for i in items if i["kind"] in ("photo", "landmarks")]
    static = [i for i in single if i["expected"] in STATIC_GESTURES]
    quiet_single = [i for i in single if i["expected"] == NO_GESTURE]
    tables = [i for i in items if i["kind"] == "table" and i["expected"] is not None]
    table_static = [i for i in tables if i["expected"] in STATIC_GESTURES]
    table_quiet = [i for i in tables if i["expected"] == NO_GESTURE]
    videos = [i for i in items if i["kind"] == "video"]
    true = sum(v["true"] for v in videos)
    edits = sum(v["edits"] for v in videos)
    quiet_n = len(quiet_single) + sum(i["rows"] for i in table_quiet)
    quiet_ok = sum(i["called"] == NO_GESTURE for i in quiet_single) + sum(i["right"] for i in table_quiet)
    table_n = sum(i["rows"] for i in table_static)
    return {
        "static_top1": _ratio(sum(i["called"] == i["expected"] for i in static), len(static)),
        "static_items": len(static),
        "oov_quiet": _ratio(quiet_ok, quiet_n), "oov_items": quiet_n,
        "table_top1": _ratio(sum(i["right"] for i in table_static), table_n), "table_rows": table_n,
        "video_levenshtein": _ratio(max(0, true - edits), true) if true else None,
        "video_gestures": true, "video_edits": edits,
    }


def _ratio(a: int, n: int) -> float | None:
    return round(a / n, 4) if n else None


def _name(path: Path, manifest: RealManifest) -> str:
    try:
        return str(path.relative_to(manifest.root))
    except ValueError:
        return str(path)


def format_real_report(report: dict) -> str:
    """The table of items and the headline figures, as text."""
    lines = [f"model: {report['model']['model']}", "",
             f"{'kind':10s} {'file':52s} {'expected':24s} {'called':24s} score"]
    for i in report["items"]:
        expected = "-" if i["expected"] is None else i["expected"] + (f" ({i['pose']})" if "pose" in i else "")
        lines.append(f"{i['kind']:10s} {i['file'][-52:]:52s} {expected[:24]:24s} {str(i['called'])[:24]:24s} "
                     f"{'' if i['score'] is None else i['score']}{'  ' + i['note'] if i.get('note') else ''}")

    def pct(key: str, n_key: str) -> str:
        value = report[key]
        return "n/a" if value is None else f"{value:.3f} ({report[n_key]})"

    lines += ["", f"static top-1 (photos, landmark files): {pct('static_top1', 'static_items')}",
              f"out-of-vocabulary quiet rate: {pct('oov_quiet', 'oov_items')}",
              f"keypoint tables, held-out rows of static gestures: {pct('table_top1', 'table_rows')}",
              f"videos, online Levenshtein accuracy: {pct('video_levenshtein', 'video_gestures')}"]
    return "\n".join(lines)
