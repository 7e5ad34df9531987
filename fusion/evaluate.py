"""Evaluation (``python main.py eval``): offline top-1 per class and online metrics on continuous streams.

Offline: each isolated clip's window (``spec.window`` frames centred on the gesture) → fused top-1,
per-class accuracy and confusion matrix, plus the same for every stream alone (``FusionOutput.streams``)
when the model has several.

Online: each continuous stream is preprocessed once, then run as the app runs it — a streaming
model's ``step()`` on every frame, a windowed model's forward over the last T frames every
``stride`` frames — and the per-step logits go through ``fusion.online.OnlineRecognizer``; the
events are scored by ``fusion.metrics.evaluate_online`` (Levenshtein accuracy, false triggers per
hour of no-gesture footage, detection delay p50/p95 and the fraction of the gesture seen).

A dataset of continuous streams only (or ``--synthetic --clips 0``) is evaluated online only: the
report's ``top1`` is then null and ``per_class`` and ``clip_correct`` are empty.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fusion.errors import BadInput
from fusion.online import OnlineConfig, recognize, with_settings

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "model_default.pt"


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate and on which data."""

    model: str = str(DEFAULT_MODEL)
    data: str | None = None               # a synthetic dataset folder; or synthetic=True
    synthetic: bool = False               # draw a fresh test set with ``seed``
    seed: int = 1000
    clips: int = 170                      # synthetic: isolated clips (10 per class)
    streams: int = 4                      # synthetic: continuous streams (8 gestures each)
    modalities: tuple[str, ...] | None = None  # give the model only these (None: all it has)
    confusion: str | None = None          # write the fused confusion matrix PNG here
    stride: int = 2                       # windowed models: frames between evaluations
    online: OnlineConfig | None = None    # None: the model's own settings (training["online"]), else defaults
    settings: tuple[str, ...] = ()        # NAME=VALUE changes to those settings (eval --online)
    threads: int | None = None
    workers: int = 2                      # synthetic generation processes
    progress: bool = True


def online_config_of(meta) -> OnlineConfig:
    """The recogniser settings stored with a model (``training["online"]``, written by
    scripts/tune_online.py), else the defaults; always for logits."""
    stored = dict(meta.training.get("online") or {})
    try:
        return OnlineConfig(**{**stored, "from_logits": True})
    except (TypeError, ValueError) as error:
        raise BadInput(f"the model's stored online settings are invalid: {error}") from None


def _label_map(data_labels, model_labels, source: str) -> np.ndarray:
    missing = [l for l in data_labels if l not in model_labels]
    if missing:
        raise BadInput(f"{source} has labels the model does not know: {missing}")
    return np.array([list(model_labels).index(l) for l in data_labels], np.int64)


def prepare_streams(streams, spec) -> list[dict[str, np.ndarray]]:
    """Continuous streams (``fusion.data.synthetic.clip.Stream``) → the prepared arrays ``stream_scores`` takes."""
    from fusion.data.model_inputs import prepare_frames

    frames = []
    for s in streams:
        rgb, depth, skel = prepare_frames(s.rgb, s.depth, s.depth_scale, s.skeleton, s.presence, s.handedness, spec)
        frames.append({"rgb": rgb, "depth": depth, "skeleton": skel})
    return frames


def stream_scores(model, frames: list[dict[str, np.ndarray]], spec, modalities: tuple[str, ...], *,
                  stride: int = 2, progress: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """(logits (N, K), frame indices (N,)) per stream, computed as the app computes them.

    ``frames[k]`` holds prepared arrays of stream k: rgb (T,h,w,3) uint8, depth (T,h,w), skeleton (T,C,J).
    Streaming models step through all streams at once (batch = number of streams).
    """
    from fusion.data.model_inputs import to_inputs

    lengths = [len(f["skeleton"]) for f in frames]
    n_max = max(lengths)
    bar = None
    if progress:
        from fusion.progress import Progress

        bar = Progress(n_max, label="online")
    out: list[tuple[np.ndarray, np.ndarray]] = []
    with torch.inference_mode():
        if hasattr(model, "step"):
            def padded(key):
                arrs = [f[key] for f in frames]
                shape = (len(arrs), n_max) + arrs[0].shape[1:]
                buf = np.zeros(shape, arrs[0].dtype)
                for i, a in enumerate(arrs):
                    buf[i, :len(a)] = a
                return buf

            x = to_inputs(padded("rgb"), padded("depth"), padded("skeleton"), spec, modalities)  # (B, C, T, …)
            model.warm({m: v[:, :, 0] for m, v in x.items()})  # as the app starts a stream
            logits = []
            for t in range(n_max):
                logits.append(model.step({m: v[:, :, t] for m, v in x.items()}).logits.float().numpy())
                if bar and (t % 20 == 0 or t == n_max - 1):
                    bar.update(t + 1)
            stacked = np.stack(logits, axis=1)  # (B, N, K)
            model.reset()
            for i, n in enumerate(lengths):
                out.append((stacked[i, :n], np.arange(n)))
            return out
        T = spec.window
        done = 0
        for f in frames:
            n = len(f["skeleton"])
            x = to_inputs(f["rgb"][None], f["depth"][None], f["skeleton"][None], spec, modalities)  # (1, C, n, …)
            idx = np.arange(T - 1, n, stride)
            rows = []
            for t in idx:
                rows.append(model({m: v[:, :, t - T + 1:t + 1] for m, v in x.items()}).logits.float().numpy()[0])
            out.append((np.stack(rows) if rows else np.zeros((0, model.config.num_classes), np.float32), idx))
            done += 1
            if bar:
                bar.update(int(n_max * done / len(frames)))
    return out


def evaluate(config: EvalConfig) -> dict:
    """The report: {"model", "top1", "per_class", "per_stream", "confusion", "online", …} (see module docstring)."""
    from fusion.checkpoint import load_checkpoint
    from fusion.data.model_inputs import prepare_clips, prepare_dataset
    from fusion.metrics import evaluate_online

    if config.threads:
        torch.set_num_threads(config.threads)
    if not config.synthetic and not config.data:
        raise BadInput("eval needs --data DIR or --synthetic")
    if config.data and not Path(config.data).is_dir():
        raise BadInput(f"data folder not found: {config.data}")
    start = time.monotonic()
    model, meta = load_checkpoint(config.model)
    spec, labels = meta.config.input, meta.labels
    modalities = tuple(meta.config.modalities)
    if config.modalities is not None:
        bad = [m for m in config.modalities if m not in modalities]
        if bad or not config.modalities:
            raise BadInput(f"--modalities {','.join(config.modalities)}: the model has {','.join(modalities)}")
        modalities = tuple(m for m in modalities if m in config.modalities)
    online_config = with_settings(config.online or online_config_of(meta), config.settings)

    # the data
    stream_list = []
    if config.synthetic:
        from fusion.data.synthetic import world

        if config.clips < 0 or config.streams < 0 or config.clips + config.streams == 0:
            raise BadInput("--clips and --streams must be >= 0, and not both 0")
        scfg = world.SynthConfig()
        clips = None
        if config.clips:
            gen = world.clips(config.seed, config.clips, scfg, workers=config.workers)
            clips = prepare_clips(gen, scfg.labels, spec)
        stream_list = list(world.streams(config.seed, config.streams, scfg, workers=config.workers))
        source = f"synthetic seed {config.seed}"
    else:
        from fusion.data.synthetic.dataset_files import SyntheticDataset

        ds = SyntheticDataset(config.data)
        if len(ds) == 0 and ds.num_streams == 0:
            raise BadInput(f"{config.data}: the dataset holds neither isolated clips nor streams")
        # a dataset of streams only is evaluated online only
        clips = prepare_dataset(config.data, spec, progress=config.progress, streams=False) if len(ds) else None
        stream_list = [ds.stream(k) for k in range(ds.num_streams)]
        source = str(config.data)
    report = {"model": str(config.model), "data": source, "modalities": list(modalities),
              "clips": 0 if clips is None else len(clips)}
    if clips is not None:
        report.update(_offline(config, model, clips, labels, modalities, source))
    elif config.confusion:
        raise BadInput(f"--confusion needs isolated clips; {source} has continuous streams only")
    else:
        report.update(top1=None, per_class={}, clip_correct=[], confusion=None)

    # online
    if stream_list:
        scores = stream_scores(model, prepare_streams(stream_list, spec), spec, modalities, stride=config.stride,
                               progress=config.progress)
        per_stream_events = []
        report["online_config"] = {k: v for k, v in online_config.__dict__.items() if k != "static_labels"}
        for s, (logits, idx) in zip(stream_list, scores):
            times = idx / s.fps
            events = recognize(online_config, labels, logits, times)
            segments = [(label, a / s.fps, b / s.fps) for label, a, b in s.segments]
            per_stream_events.append((segments, events, len(s.rgb) / s.fps))
        online = evaluate_online(per_stream_events)
        report["online"] = online.to_json()
        report["online"]["streams"] = len(stream_list)
        report["online"]["seconds_of_footage"] = round(sum(x[2] for x in per_stream_events), 2)
    else:
        report["online"] = None
    report["seconds"] = round(time.monotonic() - start, 1)
    return report


def _offline(config: EvalConfig, model, clips, labels, modalities: tuple[str, ...], source: str) -> dict:
    """Top-1, per class, per clip and per stream, and the confusion matrix (PNG on request), of the isolated clips."""
    from fusion.metrics import offline_report
    from fusion.train import predict

    y_true = _label_map(clips.labels, labels, source)[clips.label]
    fused, per_stream = predict(model, clips, np.arange(len(clips)), modalities)
    offline = offline_report(y_true, fused, labels)
    out = {"top1": round(float(offline["top1"]), 4)}
    out["per_class"] = {k: round(float(v), 4) for k, v in offline["per_class"].items()}
    out["clip_correct"] = (np.asarray(fused) == y_true).astype(int).tolist()  # per clip, for paired comparisons
    out["confusion"] = offline["confusion"]
    if len(per_stream) > 1:
        out["per_stream"] = {}
        for m, pred in per_stream.items():
            r = offline_report(y_true, pred, labels)
            out["per_stream"][m] = {"top1": round(float(r["top1"]), 4),
                                    "per_class": {k: round(float(v), 4) for k, v in r["per_class"].items()},
                                    "clip_correct": (np.asarray(pred) == y_true).astype(int).tolist()}
    if config.confusion:
        from fusion.plots import confusion_matrix_png

        confusion_matrix_png(config.confusion, np.asarray(offline["confusion"]), labels,
                             title=f"{Path(config.model).name}: top-1 {offline['top1']:.3f}")
        out["confusion_png"] = str(config.confusion)
    return out


def format_report(report: dict) -> str:
    """A short human-readable summary of ``evaluate``'s report."""
    lines = [f"model {report['model']} on {report['data']} ({report['clips']} clips, "
             f"modalities {','.join(report['modalities'])})",
             "offline: no isolated clips" if report["top1"] is None else f"offline top-1 {report['top1']:.3f}"]
    for m, r in (report.get("per_stream") or {}).items():
        lines.append(f"  {m:9s} alone: top-1 {r['top1']:.3f}")
    if report["per_class"]:
        worst = sorted(report["per_class"].items(), key=lambda kv: kv[1])[:3]
        lines.append("  lowest classes: " + ", ".join(f"{k} {v:.2f}" for k, v in worst))
    o = report.get("online")
    if o:
        def f(x, fmt):
            return "n/a" if x is None else format(x, fmt)

        lines.append(f"online ({o['streams']} streams, {o['seconds_of_footage']} s): Levenshtein "
                     f"{f(o['levenshtein'], '.3f')}, false triggers/h {f(o['false_triggers_per_hour'], '.1f')}, "
                     f"delay p50 {f(o['delay_ms_p50'], '.0f')} ms p95 {f(o['delay_ms_p95'], '.0f')} ms, "
                     f"{o['matched']}/{o['n_true']} gestures matched, {o['n_events']} events")
    return "\n".join(lines)


def print_report(report: dict, as_json: bool) -> None:
    import json

    if as_json:
        slim = {k: v for k, v in report.items() if k != "confusion"}
        slim["confusion"] = report["confusion"]
        print(json.dumps(slim))
    else:
        print(format_report(report))
    sys.stdout.flush()
