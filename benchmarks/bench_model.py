"""Model benchmark: step time of the streaming model (eager, TorchScript, ONNX Runtime), MMTM vs late fusion,
the cost of recomputing a window, and the windowed model per window at batch 1 and 8.

    python benchmarks/bench_model.py [--out docs/BENCHMARKS-net.md] [--rounds 7] [--threads 2]

Timings are medians over rounds; within a round the compared variants run back to back, so the
ratios come from one run under the same load. Other processes may share the CPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from fusion.export import StepExport, example_inputs, output_names  # noqa: E402
from fusion.model_config import ModelConfig, build_model  # noqa: E402
from fusion.model_info import model_info  # noqa: E402


def _progress(message: str) -> None:
    print(f"[bench_model] {message}", file=sys.stderr, flush=True)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _time_per_call(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls




def eager_step(model):
    _, inputs = example_inputs(model)
    frames = dict(zip(model.modalities, inputs))
    model.reset()

    def fn():
        model.step(frames)

    return fn


def torchscript_step(model):
    names, inputs = example_inputs(model)
    m = len(model.modalities)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.freeze(torch.jit.trace(StepExport(model).eval(), tuple(inputs), check_trace=False))
    state = {"s": inputs[m + 1:]}

    def fn():
        out = traced(*inputs[:m + 1], *state["s"])
        state["s"] = out[1 + m:]

    return fn


def ort_step(model, threads: int, folder: str):
    import onnxruntime as ort

    names, inputs = example_inputs(model)
    m = len(model.modalities)
    path = os.path.join(folder, f"{model.config.fusion}.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(StepExport(model).eval(), tuple(inputs), path, input_names=names,
                          output_names=output_names(model), opset_version=17, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # no busy-waiting between runs: spinning ORT threads would steal the CPU from the other variants
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feeds = {n: x.numpy() for n, x in zip(names, inputs)}
    state_names = names[m + 1:]

    def fn():
        out = session.run(None, feeds)
        for n, o in zip(state_names, out[1 + m:]):
            feeds[n] = o

    return fn


def window_forward(model, batch: int):
    spec = model.config.input
    g = torch.Generator().manual_seed(0)
    shapes = {"rgb": (batch, 3, spec.window, spec.height, spec.width),
              "depth": (batch, 1, spec.window, spec.height, spec.width),
              "skeleton": (batch, spec.skeleton_channels, spec.window, spec.joints)}
    x = {m: torch.randn(shapes[m], generator=g) for m in model.modalities}

    def fn():
        model(x)

    return fn


def measure(variants: dict, rounds: int, calls: dict) -> dict[str, float]:
    """Median seconds per call of each variant; variants alternate within every round."""
    for name, fn in variants.items():  # warm-up
        _time_per_call(fn, max(3, calls[name] // 2))
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(rounds):
        _progress(f"round {r + 1}/{rounds}")
        for name, fn in variants.items():
            samples[name].append(_time_per_call(fn, calls[name]))
    return {name: statistics.median(v) for name, v in samples.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS-net.md"))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    config = ModelConfig()
    mmtm = build_model(config).eval()
    late = build_model(config.replace(fusion="late")).eval()
    late.load_state_dict(mmtm.state_dict(), strict=False)  # same streams
    windowed = build_model(config.replace(shape="windowed")).eval()
    info = {"mmtm": model_info(mmtm), "late": model_info(late), "windowed": model_info(windowed)}

    _progress("building TorchScript and ONNX variants")
    with tempfile.TemporaryDirectory() as folder, torch.inference_mode():
        variants = {
            "eager mmtm": eager_step(mmtm), "eager late": eager_step(late),
            "torchscript mmtm": torchscript_step(mmtm), "torchscript late": torchscript_step(late),
            "ort mmtm": ort_step(mmtm, args.threads, folder), "ort late": ort_step(late, args.threads, folder),
            "window recompute (streaming, eager)": window_forward(mmtm, 1),
            "windowed b1": window_forward(windowed, 1),
            "windowed b8": window_forward(windowed, 8),
        }
        calls = {name: 40 for name in variants}
        calls["window recompute (streaming, eager)"] = 3
        calls["windowed b1"] = 1
        calls["windowed b8"] = 1
        times = measure(variants, args.rounds, calls)

    ms = {k: v * 1e3 for k, v in times.items()}
    fl = {k: v["flops"]["total"] / 1e6 for k, v in info.items()}
    best = min(("eager", "torchscript", "ort"), key=lambda r: ms[f"{r} mmtm"])
    machine = f"2-core x86-64 CPU, no GPU ({_cpu_name()}, {os.cpu_count()} logical CPUs)"
    lines = [
        "# Model benchmark (issue 2)",
        "",
        f"Machine: {machine}; torch {torch.__version__}, {args.threads} threads; other processes may share the CPU.",
        f"Command: `python benchmarks/bench_model.py --rounds {args.rounds} --threads {args.threads}`; "
        "medians over rounds, the compared variants alternate within each round, so ratios come from one run.",
        "",
        f"Default streaming model: rgb+depth+skeleton, MMTM (paper variant, ratio {config.mmtm_ratio}) after stages "
        f"{list(config.mmtm_stages)}, input {config.input.width}x{config.input.height}, T={config.input.window}, "
        f"{info['mmtm']['params']['total']:,} parameters.",
        "",
        "| what | MMTM | late fusion | MMTM / late |",
        "| --- | ---: | ---: | ---: |",
        f"| FLOPs per step (one frame) | {fl['mmtm']:.2f} M | {fl['late']:.2f} M | {fl['mmtm'] / fl['late']:.4f} |",
    ]
    for runtime, label in (("eager", "eager PyTorch"), ("torchscript", "TorchScript (traced, frozen)"),
                           ("ort", "ONNX Runtime")):
        a, b = ms[f"{runtime} mmtm"], ms[f"{runtime} late"]
        lines.append(f"| step time, {label} | {a:.2f} ms | {b:.2f} ms | {a / b:.3f} |")
    recompute = ms["window recompute (streaming, eager)"]
    lines += [
        "",
        f"Fastest runtime for the MMTM step: **{best}**, {ms[best + ' mmtm']:.2f} ms per step (target ≤ 5 ms).",
        f"MMTM adds {100 * (fl['mmtm'] / fl['late'] - 1):.2f}% FLOPs (target ≤ 5%) and "
        f"{100 * (ms[best + ' mmtm'] / ms[best + ' late'] - 1):+.1f}% step time in {best} (target < 15%).",
        "",
        "| streaming vs recomputing the window (eager, batch 1) | time | FLOPs |",
        "| --- | ---: | ---: |",
        f"| step() on the newest frame | {ms['eager mmtm']:.2f} ms | {fl['mmtm']:.1f} M |",
        f"| forward over the whole window of {config.input.window} frames | {recompute:.1f} ms | "
        f"{info['mmtm']['window_forward_flops'] / 1e6:.0f} M |",
        f"| ratio window / step | {recompute / ms['eager mmtm']:.1f}x | "
        f"{info['mmtm']['window_forward_flops'] / 1e6 / fl['mmtm']:.1f}x |",
        "",
        "| windowed model (R(2+1)D-like streams, MMTM, eager) | per call | per window | FLOPs per window |",
        "| --- | ---: | ---: | ---: |",
        f"| batch 1 | {ms['windowed b1']:.1f} ms | {ms['windowed b1']:.1f} ms | {fl['windowed']:.0f} M |",
        f"| batch 8 | {ms['windowed b8']:.1f} ms | {ms['windowed b8'] / 8:.1f} ms | {fl['windowed']:.0f} M |",
        "",
        "FLOPs: torch.utils.flop_counter (convolutions and matrix products, 2 per multiply-add) plus MMTM's "
        "element-wise squeeze and gating (`python main.py model-info`).",
        "",
    ]
    text = "\n".join(lines)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
