"""The ``bench`` command: latency of the whole pipeline, or of the models alone.

Pipeline (default): runs the engine — the same path as ``demo``/``replay`` — on a source for a
given time, paced in real time (default: the bundled sample; without it, a synthetic recording that
this module writes: moving shapes at 640x480, 30 fps, with a hand skeleton; say so when you quote
it), and writes into ``--out``:

* ``bench.json`` — the report: machine, model, source, frames, skipped, dropped, latency per stage
  (p50/p95/p99/max), the targets and whether they were met;
* ``latency_cdf.png`` — the CDF of each stage's latency;
* ``timeline.png`` — every decision over time: capture → decision, and its model time;
* and prints a one-screen text summary.

On a video file (the webcam path: video + MediaPipe on the source thread) it then times MediaPipe's
own recogniser on the same clip, in the same run (``app.mediapipe_reference``), and holds the
pipeline's capture → decision p95 against 1.3 times MediaPipe's p95.

``--model-only``: each model variant (single stream, late fusion, MMTM; streaming step vs windowed
window), each backend and batch size (on a CUDA device also fp16, bf16 and CUDA graphs), timed
through ``ModelRunner`` back to back in one run by ``app.model_timing``, as medians and ratios to the
default (streaming MMTM, eager, batch 1).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from app.engine import Engine, EngineConfig
from app.hand_tracker import HandTrackerConfig
from app.inference_worker import WorkerConfig
from app.latency import StageTimes
from app.model_runner import PRECISIONS, UNTRAINED, ModelRunner, RunnerConfig, pick_device
from app.model_timing import runner_call, summary, time_calls
from app.mediapipe_reference import find_recognizer, mediapipe_per_frame
from app.sources.open import SAMPLE, VIDEO_SUFFIXES


@dataclass(frozen=True)
class BenchConfig:
    source: str | None = None  # None: the bundled sample, else a generated synthetic recording
    seconds: float = 20.0  # how long to run (the source may end sooner)
    model: str | None = None  # None: the default checkpoint for the source; "untrained": the default architecture
    device: str = "auto"
    backend: str = "auto"
    out: str = "bench"  # folder for bench.json and the PNGs
    realtime: bool = True  # pace file sources at their recorded rate
    model_only: bool = False
    rounds: int = 15  # model-only: timed calls per variant
    synthetic_size: tuple[int, int] = (640, 480)  # width, height of the generated recording
    hands: HandTrackerConfig = field(default_factory=HandTrackerConfig)  # MediaPipe, for video sources
    reference: str | None = None  # a gesture_recognizer.task for the reference timing (else looked for)


def run_bench(config: BenchConfig, *, log=None) -> dict:
    """Run the benchmark of ``config``; writes the report and plots, returns the report."""
    log = log or sys.stderr
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    report = bench_models(config, log=log) if config.model_only else bench_pipeline(config, log=log)
    (out / "bench.json").write_text(json.dumps(report, indent=1))
    print(text_summary(report), file=sys.stdout)
    plots = "".join(f", {out / name}" for name in report.get("plots", []))
    print(f"bench: wrote {out / 'bench.json'}{plots}", file=log)
    return report


# --- the pipeline ------------------------------------------------------------------------------------

def bench_pipeline(config: BenchConfig, *, log) -> dict:
    source, source_note, tmp = _source(config, log)
    records: list[tuple[int, StageTimes, int]] = []  # (frame, times, skipped before it)

    def on_decision(result, times, events):
        records.append((result.frame, times, result.skipped))

    recognizer = find_recognizer(config.reference)
    engine = Engine(EngineConfig(source=source, runner=RunnerConfig(model=config.model, device=config.device,
                                                                    backend=config.backend),
                                 hands=config.hands, worker=WorkerConfig(), realtime=config.realtime,
                                 headless=False),
                    out=open(os.devnull, "w"), on_decision=on_decision)
    try:
        engine.start()
        start = time.monotonic()
        feed = engine._feed
        while not feed.source.finished.wait(0.25):
            elapsed = time.monotonic() - start
            _progress(log, elapsed, config.seconds, len(records))
            if elapsed >= config.seconds or engine._worker.failed:
                break
        summary = engine.finish()
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(file=log)
    reference = None
    if Path(source).suffix.lower() in VIDEO_SUFFIXES:
        print(f"bench: timing MediaPipe's own {'GestureRecognizer' if recognizer else 'HandLandmarker'} "
              f"on the same clip", file=log)
        frames = summary["frames"].get("color") or 600  # the frames the pipeline saw
        reference = mediapipe_per_frame(source, recognizer=recognizer, hands=config.hands.max_hands,
                                        max_frames=frames)
    per_stage = _per_stage(records)
    total = summary["latency_ms"]
    overhead = summary["stages_ms"].get("overhead", {})
    report = {
        "kind": "pipeline",
        "machine": machine(),
        "config": {k: v for k, v in asdict(config).items() if k not in ("model_only", "rounds")},
        "mediapipe_reference": reference,
        "source": source_note,
        "model": summary.get("model"),
        "mode": summary.get("mode"),
        "frames": summary["frames"], "frame_sets": summary.get("frame_sets"), "decisions": summary["decisions"],
        "skipped": summary["skipped"], "dropped": summary["dropped"], "fps": summary.get("fps"),
        "wall_s": summary.get("wall_s"),
        "latency_ms": total, "stages_ms": summary["stages_ms"],
        "targets": _targets(summary, total, overhead, reference),
    }
    out = Path(config.out)
    if records:
        from fusion.plots import latency_cdf_png

        series = {k: v for k, v in per_stage.items() if k in ("total", "inference", "overhead", "buffer", "wait")
                  and len(v)}
        latency_cdf_png(out / "latency_cdf.png", series, title=f"capture → decision per stage ({source_note})")
        timeline_png(out / "timeline.png", records)
        report["plots"] = ["latency_cdf.png", "timeline.png"]
    return report


def _targets(summary: dict, total: dict, overhead: dict, reference: dict | None) -> dict:
    """The targets: RGB-D(-skeleton) sources: no skip, p95 <= 20 ms, overhead p95 <= 3 ms; the
    webcam path (no depth: video + MediaPipe on the source thread): p95 <= 60 ms, and on a video file
    p95 <= 1.3 times MediaPipe's own per-frame p95 on the same clip (``reference``)."""
    targets = {"no_skipped_frame": {"value": summary["skipped"], "met": summary["skipped"] == 0}}
    if "depth" in summary["frames"]:
        targets["total_p95_ms<=20"] = {"value": total.get("p95"), "met": _le(total.get("p95"), 20.0)}
        targets["overhead_p95_ms<=3"] = {"value": overhead.get("p95"), "met": _le(overhead.get("p95"), 3.0)}
    else:
        targets["total_p95_ms<=60"] = {"value": total.get("p95"), "met": _le(total.get("p95"), 60.0)}
    if reference is not None and total.get("p95") is not None:
        ratio = round(total["p95"] / reference["ms"]["p95"], 3)
        targets["total_p95<=1.3x_mediapipe_p95"] = {"value": ratio, "met": ratio <= 1.3}
    return targets


def _source(config: BenchConfig, log):
    if config.source is not None:
        return config.source, config.source, None
    if SAMPLE.is_file():
        return "sample", "the bundled sample recording (assets/sample.mmtm)", None
    tmp = tempfile.TemporaryDirectory(prefix="mmtm-bench-")
    path = Path(tmp.name) / "synthetic.mmtm"
    width, height = config.synthetic_size
    print(f"bench: no bundled sample; writing a synthetic {width}x{height} 30 fps recording "
          f"({config.seconds:.0f} s)", file=log)
    write_synthetic_recording(path, seconds=config.seconds + 1.0, width=width, height=height)
    return str(path), f"synthetic recording ({width}x{height}, 30 fps, moving shapes, written by bench)", tmp


def write_synthetic_recording(path, *, seconds: float, width: int = 640, height: int = 480, fps: float = 30.0,
                              seed: int = 0) -> Path:
    """A RealSense-like recording: color (JPEG) + depth + a moving 21-joint hand, every frame."""
    from fusion.data.recording import RecordingWriter
    from fusion.data.sample import Skeleton

    rng = np.random.default_rng(seed)
    n = int(seconds * fps)
    yy, xx = np.mgrid[0:height, 0:width]
    base = (rng.random((21, 3)) * 0.2).astype(np.float32)
    period = int(1e9 / fps)
    t0 = 10**9
    with RecordingWriter(path, meta={"device": {"name": "synthetic (bench)"}}, overwrite=True) as rec:
        rec.set_stream("color", {"width": width, "height": height, "fps": fps})
        rec.set_stream("depth", {"width": width, "height": height, "fps": fps, "depth_scale": 0.001})
        for i in range(n):
            t = t0 + i * period
            cx = 0.3 + 0.4 * (0.5 + 0.5 * np.sin(i / 20))
            cy = 0.5 + 0.2 * np.cos(i / 27)
            blob = ((xx / width - cx) ** 2 + (yy / height - cy) ** 2) < 0.01
            color = np.full((height, width, 3), 90, np.uint8)
            color[..., 1] = (xx * 255 // width).astype(np.uint8)
            color[blob] = (230, 180, 150)
            depth = np.full((height, width), 1400, np.uint16)
            depth[blob] = 600
            rec.write("color", color, index=i, host_ns=t, device_ms=t / 1e6)
            rec.write("depth", depth, index=i, host_ns=t + 100_000, device_ms=t / 1e6)
            hand = base + np.array([cx - 0.1, cy - 0.1, 0.0], np.float32)
            rec.write("skeleton", Skeleton(hand.astype(np.float32)), index=i, host_ns=t + 200_000)
    return Path(path)


def _per_stage(records) -> dict[str, np.ndarray]:
    out: dict[str, list[float]] = {}
    for _, times, _ in records:
        for name, value in times.intervals_ms().items():
            out.setdefault(name, []).append(value)
    return {k: np.asarray(v) for k, v in out.items()}


def timeline_png(path, records) -> Path:
    """Each decision at its capture time: capture → decision latency and its model time; skips marked."""
    from fusion.plots import _figure, _save

    t0 = records[0][1].capture
    t = np.array([(r[1].capture - t0) / 1e9 for r in records])
    total = np.array([(r[1].decision - r[1].capture) / 1e6 for r in records])
    infer = np.array([(r[1].infer_end - r[1].infer_start) / 1e6 for r in records])
    skipped = np.array([r[2] for r in records])
    fig = _figure(8.0, 3.5)
    ax = fig.add_subplot()
    ax.plot(t, total, lw=0.8, label="capture → decision")
    ax.plot(t, infer, lw=0.8, label="model (inference)")
    if skipped.any():
        ax.scatter(t[skipped > 0], total[skipped > 0], color="red", s=8, label="after skipped frames", zorder=3)
    ax.set_xlabel("capture time (s)")
    ax.set_ylabel("ms")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"frame → decision timeline ({len(records)} decisions, {int(skipped.sum())} frames skipped)")
    return _save(fig, path)


# --- the models alone --------------------------------------------------------------------------------

def bench_models(config: BenchConfig, *, log) -> dict:
    """Every variant timed back to back in one run; medians and ratios to streaming MMTM eager batch 1.
    On a CUDA device also half precision (fp16, bf16) and CUDA graphs, at 1, 2 and 4 cameras."""
    import torch

    from fusion.build import build_model
    from fusion.checkpoint import CheckpointMeta, read_checkpoint
    from fusion.model_config import ModelConfig

    if config.model and config.model != UNTRAINED:
        base = read_checkpoint(config.model)[0].config
    else:
        base = ModelConfig()
    variants = [
        ("streaming mmtm", base.replace(shape="streaming")),
        ("streaming late", base.replace(shape="streaming", fusion="late")),
        ("streaming skeleton only", base.replace(shape="streaming", fusion="none", modalities=("skeleton",))),
        ("streaming rgb only", base.replace(shape="streaming", fusion="none", modalities=("rgb",))),
        ("windowed mmtm", base.replace(shape="windowed")),
        ("windowed late", base.replace(shape="windowed", fusion="late")),
    ]
    mmtm = variants[0][1]
    runs = [(name, cfg, "eager", 1, "fp32", False) for name, cfg in variants]
    runs += [("streaming mmtm", mmtm, b, 1, "fp32", False) for b in ("torchscript", "onnxruntime")]
    runs += [("streaming mmtm", mmtm, "eager", n, "fp32", False) for n in (2, 4)]
    if pick_device(config.device).type == "cuda":  # what only a GPU has
        runs += [("streaming mmtm", mmtm, "eager", n, precision, graphs) for precision in PRECISIONS
                 for graphs in (False, True) for n in (1, 2, 4) if (precision, graphs) != ("fp32", False)]
    rows = []
    stride = WorkerConfig().stride
    for k, (name, cfg, backend, batch, precision, graphs) in enumerate(runs):
        print(f"bench: [{k + 1}/{len(runs)}] {name}, {_backend_label(backend, precision, graphs)}, batch {batch}",
              file=log, flush=True)
        torch.manual_seed(0)
        runner = ModelRunner(RunnerConfig(device=config.device, backend=backend, precision=precision,
                                          cuda_graphs=graphs, warmup=0),
                             model=build_model(cfg).eval(), meta=CheckpointMeta(config=cfg), name=name)
        times = summary(time_calls(runner_call(runner, batch), rounds=config.rounds, warmup=3,
                                   cuda=runner.device.type == "cuda"))
        median = times["median"]
        per_frame = median / batch if runner.streaming else median / (stride * batch)
        rows.append({"model": name, "backend": backend, "precision": precision, "cuda_graphs": graphs,
                     "batch": batch, "call_ms": round(median, 3), "p95_ms": round(times["p95"], 3),
                     "per_frame_ms": round(per_frame, 3),
                     "call": "step (one frame)" if runner.streaming else f"window of {cfg.input.window} frames"})
    ref = rows[0]["per_frame_ms"]
    for row in rows:
        row["per_frame_ratio"] = round(row["per_frame_ms"] / ref, 3)
    return {"kind": "model_only", "machine": machine(), "device": str(runner.device), "rounds": config.rounds,
            "windowed_stride": stride, "reference": "streaming mmtm, eager, batch 1", "rows": rows,
            "note": "per_frame_ms: a streaming step per frame; a windowed model runs one window every "
                    f"{stride} frames (its call time / {stride}); batch = cameras sharing one call"}


def _backend_label(backend: str, precision: str, graphs: bool) -> str:
    return backend + ("" if precision == "fp32" else f" {precision}") + (" graph" if graphs else "")


# --- reporting ---------------------------------------------------------------------------------------

def machine() -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu, "cores": os.cpu_count(), "gpu": gpu, "torch": torch.__version__,
            "python": platform.python_version(), "load_1min": round(os.getloadavg()[0], 2)}


def text_summary(report: dict) -> str:
    m = report["machine"]
    head = f"machine: {m['cores']}-core {m['cpu']}, GPU: {m['gpu'] or 'none'}, load {m['load_1min']}"
    if report["kind"] == "model_only":
        lines = [head, f"models alone on {report['device']}, medians of {report['rounds']} calls; "
                       f"ratio per frame vs {report['reference']}",
                 f"{'model':26} {'backend':12} {'batch':>5} {'call ms':>9} {'ms/frame':>9} {'ratio':>6}"]
        for r in report["rows"]:
            backend = _backend_label(r["backend"], r.get("precision", "fp32"), r.get("cuda_graphs", False))
            lines.append(f"{r['model']:26} {backend:12} {r['batch']:>5} {r['call_ms']:>9.2f} "
                         f"{r['per_frame_ms']:>9.2f} {r['per_frame_ratio']:>6.2f}")
        return "\n".join(lines)
    lat = report["latency_ms"]
    lines = [head, f"source: {report['source']}",
             f"model: {report['model']}",
             f"frames: {report['frames']}  frame sets: {report['frame_sets']}  decisions: {report['decisions']}  "
             f"skipped: {report['skipped']}  dropped: {report['dropped']}",
             f"capture → decision ms: p50 {_f(lat.get('p50'))}  p95 {_f(lat.get('p95'))}  "
             f"p99 {_f(lat.get('p99'))}  max {_f(lat.get('max'))}",
             f"{'stage':10} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"]
    ref = report.get("mediapipe_reference")
    if ref is not None:
        lines.insert(5, f"MediaPipe's own {ref['what']} ({ref['hands']} hand(s)) on the same clip, ms a frame: "
                        f"p50 {_f(ref['ms']['p50'])}  p95 {_f(ref['ms']['p95'])}  p99 {_f(ref['ms']['p99'])}")
    for name, s in report["stages_ms"].items():
        cells = " ".join(f"{_f(s.get(q)):>8}" for q in ("p50", "p95", "p99", "max"))
        lines.append(f"{name:10} {cells}")
    for name, t in report["targets"].items():
        lines.append(f"target {name}: {t['value']} -> {'met' if t['met'] else 'NOT met'}")
    return "\n".join(lines)


def _f(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _le(value, limit) -> bool:
    return value is not None and value <= limit


def _progress(log, elapsed: float, total: float, decisions: int) -> None:
    width = 30
    done = min(1.0, elapsed / total) if total > 0 else 1.0
    bar = "#" * int(done * width) + "-" * (width - int(done * width))
    print(f"\rbench [{bar}] {elapsed:5.1f}/{total:.0f} s, {decisions} decisions", end="", file=log, flush=True)
