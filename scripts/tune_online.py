"""Choose the online recogniser's settings for a model on validation streams, and store them in it.

    python scripts/tune_online.py assets/model_default.pt --val runs/val-streams [--write] [--workers 2]
    python scripts/tune_online.py assets/model_skeleton.pt --val runs/val-skeleton --skeleton-only 15,20,25,30,60
    python scripts/tune_online.py assets/model_skeleton.pt --val T --try '{}' --try '{"cooldown_s": 1.0}'
    python scripts/tune_online.py M --val V --skeleton-only 15,20,25,30,60 --max-false-per-hour 30 --write
    python scripts/tune_online.py M --val V --skeleton-only 15,20,25,30,60 --held H.npz --write   # the recipe's

The validation streams (seed 500, 64 streams, about 20 minutes; generated when the folder is
missing) are used by no training run and by no test. The model's per-frame logits are computed once
(as the app computes them: ``step()`` per frame); then a grid of ``OnlineConfig`` settings is scored
by Levenshtein accuracy − false triggers per hour / 1000, on ``--workers`` processes (ties go to the
settings whose text sorts first). With ``--max-false-per-hour F`` the settings are chosen among those
with at most F false triggers per hour on the streams, by Levenshtein accuracy (then fewer false
triggers), and by the score above only when none keeps to F (the report says which, and names the
settings with the fewest). ``--write`` stores the best settings in the checkpoint's training
metadata (``training["online"]``), where ``main.py eval`` (and the app) pick them up.

``--held FILE`` (a skeleton model's) adds MediaPipe's readings of rendered held hands (a readings
file of ``scripts/make_readings.py``, made with a seed no training used): each reading is held still
in front of the model for 1.5 s, as ``main.py eval --real`` holds a photo, and counts as right when
the recogniser's first call is its label (a static gesture) or when nothing is called (no_gesture).
The score becomes Levenshtein accuracy + that share − false triggers per hour / 1000 (within
``--max-false-per-hour``, Levenshtein accuracy + that share): the synthetic streams alone know only
the generator's true joints, and chose a static threshold that real held hands, read by MediaPipe,
score under (docs/RESULTS.md, run 15).

``--try SETTINGS`` scores instead the model's stored settings with these changed (a JSON object; may
be given more than once) on the streams of ``--val``, any folder with streams (a test set too), and
lists each false trigger (an event outside every gesture's time and its tolerance) with the true
gestures around it: how docs/RESULTS.md reads what other settings would cost. With one ``--try``,
``--save-as M2`` also writes a copy of the model that holds those settings, so that ``main.py eval
--real --model M2`` (or the app) runs them.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

GRID = {
    "start_threshold": (0.5, 0.6, 0.7),
    "static_start_threshold": (0.5, 0.6, 0.7),
    "ema_tau_s": (0.05, 0.1),
    "min_dynamic_s": (0.2, 0.3),
    "early_threshold": (0.6, 0.75, 0.9),
    "early_min_s": (0.15,),  # every model so far chose it over 0.05
    "cooldown_s": (1.0, 1.5),
    "static_hold_s": (0.5, 0.65, 0.8),
    "supersede": (False, True),
}


# The validation streams as (logits (N, K), times (N,), true segments, duration s), the held readings
# as (logits (N, K), times (N,), expected label or None), and the labels; set before the worker
# processes fork, so that they share them.
_DATA: list = []
_HELD: list = []
_LABELS: tuple[str, ...] = ()
HOLD_S = 1.5  # as main.py eval --real holds a photo


def _metrics(cfg):
    """OnlineMetrics of the recogniser with settings ``cfg`` over the validation streams."""
    from fusion.metrics import evaluate_online
    from fusion.online import recognize

    return evaluate_online([(segs, recognize(cfg, _LABELS, logits, times), dur) for logits, times, segs, dur in _DATA])


def _held_right(cfg) -> float:
    """The share of the held readings whose first call is their label (nothing, for no_gesture); 0 without any."""
    from fusion.online import recognize

    if not _HELD:
        return 0.0
    right = 0
    for logits, times, expected in _HELD:
        events = recognize(cfg, _LABELS, logits, times)
        right += (events[0].label == expected) if events else expected is None
    return right / len(_HELD)


def _score(values: tuple) -> tuple[float, object, object, float]:
    """(objective, OnlineMetrics, OnlineConfig, held share) of one point of GRID on the validation streams."""
    from fusion.online import OnlineConfig

    cfg = OnlineConfig(from_logits=True, **dict(zip(GRID, values)))
    m, held = _metrics(cfg), _held_right(cfg)
    return m.levenshtein + held - m.false_triggers_per_hour / 1000.0, m, cfg, held


def _try(cfg, name: str, tolerance_s: float = 0.5) -> None:
    """Print the metrics of ``cfg`` on the streams and each of its false triggers (as evaluate_online counts them)."""
    from fusion.online import recognize

    m = _metrics(cfg)
    held = f", held readings right {_held_right(cfg):.3f} of {len(_HELD)}" if _HELD else ""
    print(f"{name}: Levenshtein {m.levenshtein:.3f}, false triggers {m.false_triggers} "
          f"({m.false_triggers_per_hour:.1f} per hour){held}")
    for k, (logits, times, segments, _) in enumerate(_DATA):
        for event in recognize(cfg, _LABELS, logits, times):
            gestures = [(label, a, b) for label, a, b in segments if label != "no_gesture"]
            if not any(a <= event.t <= b + tolerance_s for _, a, b in gestures):
                near = ", ".join(f"{label} {a:.2f}-{b:.2f} s" for label, a, b in gestures
                                 if a - 2 <= event.t <= b + 2)
                print(f"  stream {k} at {event.t:.2f} s: {event.label} (around it: {near or 'nothing'})")


def _figures(m, cfg) -> dict:
    """The figures a report gives of settings ``cfg`` with OnlineMetrics ``m``."""
    figures = {"levenshtein": round(m.levenshtein, 3), "false_triggers_per_hour": round(m.false_triggers_per_hour, 1)}
    if _HELD:
        figures["held_right"] = round(_held_right(cfg), 3)
    return figures


def _held_logits(model, meta, path: str) -> list:
    """``_HELD`` for the readings file at ``path``: each reading held still for HOLD_S through the model."""
    from fusion.data.readings import readings_clips
    from fusion.evaluate import stream_scores
    from fusion.labels import NO_GESTURE

    spec = meta.config.input
    clips = readings_clips(path, meta.labels, spec, frames=max(1, round(HOLD_S * spec.fps)), seed=1)
    frames = [{"rgb": clips.rgb[i], "depth": clips.depth[i], "skeleton": clips.skeleton[i]}
              for i in range(len(clips.label))]
    scores = stream_scores(model, frames, spec, ("skeleton",), progress=True)
    expected = [None if meta.labels[k] == NO_GESTURE else meta.labels[k] for k in clips.label]
    return [(logits, idx / spec.fps, e) for (logits, idx), e in zip(scores, expected)]


def _settings_of(cfg) -> dict:
    """The OnlineConfig fields a checkpoint stores (``training["online"]``)."""
    return {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("from_logits", "static_labels")}


def main() -> int:
    global _DATA, _HELD, _LABELS
    import torch

    from fusion.checkpoint import load_checkpoint, save_checkpoint
    from fusion.data.synthetic.dataset_files import SyntheticDataset
    from fusion.errors import BadInput
    from fusion.evaluate import online_config_of, prepare_streams, stream_scores
    from fusion.online import OnlineConfig
    from fusion.progress import Progress

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--val", default=str(ROOT / "data" / "synth-train-val64"),
                        help="validation streams (as train_default.sh names them)")
    parser.add_argument("--streams", type=int, default=64, help="streams to generate when --val is missing")
    parser.add_argument("--workers", type=int, default=2, help="processes scoring the grid")
    parser.add_argument("--write", action="store_true", help="store the best settings in the checkpoint")
    parser.add_argument("--try", dest="tries", action="append", metavar="JSON",
                        help="score the stored settings changed by these, and list the false triggers")
    parser.add_argument("--max-false-per-hour", type=float, metavar="F",
                        help="choose among the settings with at most F false triggers per hour on the streams")
    parser.add_argument("--held", metavar="FILE", help="a readings file (scripts/make_readings.py, another seed "
                        "than training's): score MediaPipe's readings of held hands too (skeleton models)")
    parser.add_argument("--save-as", metavar="M2", help="with one --try: write a copy of the model holding its settings")
    parser.add_argument("--skeleton-only", metavar="F,F", nargs="?", const="30",
                        help="generate skeleton-only validation streams, seen by cameras at these rates "
                             "(for a skeleton model; e.g. 15,20,25,30,60)")
    args = parser.parse_args()
    if args.max_false_per_hour is not None and not args.max_false_per_hour >= 0:
        print("tune_online: --max-false-per-hour needs a number of false triggers per hour >= 0", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    val = Path(args.val)
    if not (val / "index.json").is_file():
        world = ["--skeleton-only", "--camera-fps", args.skeleton_only] if args.skeleton_only else []
        subprocess.run([sys.executable, str(ROOT / "main.py"), "generate", "--clips", "0", "--streams",
                        str(args.streams), "--seed", "500", "--out", str(val), "--workers", str(args.workers),
                        *world], check=True)
    model, meta = load_checkpoint(args.model)
    spec, labels = meta.config.input, meta.labels
    if args.held and tuple(meta.config.modalities) != ("skeleton",):
        print(f"tune_online: --held is for a skeleton model; {args.model} takes {'+'.join(meta.config.modalities)}",
              file=sys.stderr)
        return 2
    try:  # settings to try: checked before the streams are scored
        tries = [OnlineConfig(from_logits=True, **{**(meta.training.get("online") or {}), **json.loads(changes)})
                 for changes in args.tries or ()]
    except (ValueError, TypeError) as error:
        print(f"tune_online: --try needs a JSON object of OnlineConfig settings ({error})", file=sys.stderr)
        return 2
    if args.save_as and len(tries) != 1:
        print("tune_online: --save-as needs exactly one --try (the settings to store)", file=sys.stderr)
        return 2
    try:  # before the streams: a bad file fails at once
        _HELD = _held_logits(model, meta, args.held) if args.held else []
    except BadInput as error:
        print(f"tune_online: {error}", file=sys.stderr)
        return 2
    ds = SyntheticDataset(val)
    streams = [ds.stream(k) for k in range(ds.num_streams)]
    scores = stream_scores(model, prepare_streams(streams, spec), spec, tuple(meta.config.modalities), progress=True)
    _LABELS = tuple(labels)
    _DATA = [(logits, idx / s.fps, [(l, a / s.fps, b / s.fps) for l, a, b in s.segments], len(s.rgb) / s.fps)
             for (logits, idx), s in zip(scores, streams)]
    if args.tries:
        for changes, cfg in zip(args.tries, tries):
            _try(cfg, changes)
        if args.save_as:
            training = {k: v for k, v in meta.training.items() if k != "online_tuned_on"}  # not tuned: tried
            save_checkpoint(args.save_as, model, labels=labels, training={**training, "online": _settings_of(tries[0])})
            print(f"wrote {args.save_as} with these settings")
        return 0

    points = list(itertools.product(*GRID.values()))
    bar = Progress(len(points), label="settings")
    results = []
    with multiprocessing.get_context("fork").Pool(max(1, args.workers)) as pool:
        for result in pool.imap_unordered(_score, points, chunksize=4):
            results.append(result)
            bar.update(len(results))
    results.sort(key=lambda r: (-r[0], str(r[2])))  # ties: a fixed order, not the workers'
    limit = args.max_false_per_hour
    within = [r for r in results if limit is not None and r[1].false_triggers_per_hour <= limit]
    within.sort(key=lambda r: (-(r[1].levenshtein + r[3]), r[1].false_triggers_per_hour, str(r[2])))
    _, best_m, best, _ = (within or results)[0]
    settings = _settings_of(best)
    default, stored = OnlineConfig(from_logits=True), online_config_of(meta)
    report = {"model": args.model, "val": str(val), "default": _figures(_metrics(default), default)}
    if args.held:
        report["held"] = {"file": args.held, "readings": len(_HELD)}
    if meta.training.get("online"):
        report["stored"] = _figures(_metrics(stored), stored)
    report.update(best=_figures(best_m, best), settings=settings)
    if limit is not None:
        report["max_false_per_hour"] = limit
        report["kept_to_it"] = bool(within)
        fewest = min(results, key=lambda r: (r[1].false_triggers_per_hour, -r[1].levenshtein, str(r[2])))
        report["fewest_false"] = {**_figures(fewest[1], fewest[2]), "settings": _settings_of(fewest[2])}
    if args.write:
        training = dict(meta.training)
        training["online"] = settings
        training["online_tuned_on"] = {"seed": ds.index.get("seed"), "streams": ds.num_streams,
                                       "levenshtein": report["best"]["levenshtein"],
                                       "false_triggers_per_hour": report["best"]["false_triggers_per_hour"],
                                       **({"held": args.held, "held_right": report["best"]["held_right"]}
                                          if args.held else {}),
                                       **({"max_false_per_hour": limit} if limit is not None else {})}
        save_checkpoint(args.model, model, labels=labels, training=training)
        report["written"] = True
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
