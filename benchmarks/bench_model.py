"""Model benchmark: step time of the streaming model (eager, TorchScript, ONNX Runtime), MMTM vs late fusion,
the cost of recomputing a window, and the windowed model per window at batch 1 and 8.

    python benchmarks/bench_model.py [--rounds 7] [--threads 2] [--out FILE]

Prints the tables of the "Model" section of docs/BENCHMARKS.md (``--out`` also writes them to FILE).
Timings (``app.model_timing``) are medians over rounds; within a round the compared variants run
back to back, so the ratios come from one run under the same load. Other processes may share the CPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

import torch

from app.model_timing import paired_ratio, time_interleaved
from fusion.build import build_model
from fusion.export import StepExport, WindowExport, example_inputs, output_names
from fusion.model_config import ModelConfig
from fusion.model_info import model_info


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
    """A step through ONNX Runtime with ``threads`` intra-op threads."""
    import onnxruntime as ort

    names, inputs = example_inputs(model)
    m = len(model.modalities)
    path = os.path.join(folder, f"{model.config.fusion}-{threads}.onnx")
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


def ort_window(model, folder: str):
    """The streaming model's whole-window forward through ONNX Runtime (1 thread): what step() avoids."""
    import onnxruntime as ort

    spec = model.config.input
    names = list(model.modalities) + ["present"]
    inputs = [x.unsqueeze(2).expand(*x.shape[:2], spec.window, *x.shape[2:]).contiguous()
              for x in example_inputs(model)[1][:len(model.modalities)]] + [torch.ones(1, len(model.modalities))]
    path = os.path.join(folder, "window.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(WindowExport(model).eval(), tuple(inputs), path, input_names=names,
                          opset_version=17, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feeds = {n: x.numpy() for n, x in zip(names, inputs)}

    def fn():
        session.run(None, feeds)

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the tables to this file")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    load_before = os.getloadavg()[0]

    config = ModelConfig()
    mmtm = build_model(config).eval()
    late = build_model(config.replace(fusion="late")).eval()
    late.load_state_dict(mmtm.state_dict(), strict=False)  # same streams
    three = build_model(config.replace(mmtm_stages=(1, 2, 3))).eval()  # MMTM after three stages instead
    three.load_state_dict(mmtm.state_dict(), strict=False)
    windowed = build_model(config.replace(shape="windowed")).eval()
    info = {"mmtm": model_info(mmtm), "late": model_info(late), "three": model_info(three),
            "windowed": model_info(windowed)}

    _progress("building TorchScript and ONNX variants")
    with tempfile.TemporaryDirectory() as folder, torch.inference_mode():
        variants = {
            "eager mmtm": eager_step(mmtm), "eager late": eager_step(late),
            "torchscript mmtm": torchscript_step(mmtm), "torchscript late": torchscript_step(late),
            "ort mmtm": ort_step(mmtm, args.threads, folder), "ort late": ort_step(late, args.threads, folder),
            "ort1 mmtm": ort_step(mmtm, 1, folder), "ort1 late": ort_step(late, 1, folder),
            "ort1 three": ort_step(three, 1, folder),
            "window recompute (streaming, eager)": window_forward(mmtm, 1),
            "window recompute (streaming, ort1)": ort_window(mmtm, folder),
            "windowed b1": window_forward(windowed, 1),
            "windowed b8": window_forward(windowed, 8),
        }
        calls = {name: 20 for name in variants}
        calls["window recompute (streaming, eager)"] = 3
        calls["window recompute (streaming, ort1)"] = 3
        calls["windowed b1"] = 1
        calls["windowed b8"] = 1
        times = time_interleaved(variants, rounds=args.rounds, calls=calls, progress=_progress)

    load_after = os.getloadavg()[0]
    ms = {k: statistics.median(v) for k, v in times.items()}
    ms_min = {k: min(v) for k, v in times.items()}
    pair = {r: paired_ratio(times[f"{r} mmtm"], times[f"{r} late"]) for r in ("eager", "torchscript", "ort", "ort1")}
    pair["three"] = paired_ratio(times["ort1 three"], times["ort1 late"])
    fl = {k: v["flops"]["total"] / 1e6 for k, v in info.items()}
    best = min(("eager", "torchscript", "ort", "ort1"), key=lambda r: ms[f"{r} mmtm"])
    machine = f"2-core x86-64 CPU, no GPU ({_cpu_name()}, {os.cpu_count()} logical CPUs)"
    lines = [
        f"Machine: {machine}; torch {torch.__version__}, {args.threads} threads; other processes may share the CPU "
        f"(1-minute load average {load_before:.1f} at the start, {load_after:.1f} at the end).",
        f"Command: `python benchmarks/bench_model.py --rounds {args.rounds} --threads {args.threads}`; "
        "each call timed alone, medians over all calls (minima beside them: the least disturbed call); "
        "the step variants alternate call by call, and MMTM / late is the median of the ratios of calls "
        "taken back to back, so ratios come from one run under the same load.",
        "",
    ]
    if max(load_before, load_after) > (os.cpu_count() or 1):
        lines += [
            f"**The CPU was oversubscribed during this run** (load {max(load_before, load_after):.1f} on "
            f"{os.cpu_count()} CPUs): medians include waiting for the CPU (eager PyTorch with 2 OpenMP threads "
            "suffers most) and their ratios are noisy; the minima are the closest to the uncontended cost. "
            "Rerun the command on an idle machine for clean medians.",
            "",
        ]
    lines += [
        f"Default streaming model: rgb+depth+skeleton, MMTM (paper variant, ratio {config.mmtm_ratio}) after stages "
        f"{list(config.mmtm_stages)}, input {config.input.width}x{config.input.height}, T={config.input.window}, "
        f"{info['mmtm']['params']['total']:,} parameters.",
        "",
        "| what | MMTM | late fusion | MMTM / late (paired) | MMTM min | late min | min ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| FLOPs per step (one frame) | {fl['mmtm']:.2f} M | {fl['late']:.2f} M | {fl['mmtm'] / fl['late']:.4f} "
        "| | | |",
    ]
    for runtime, label in (("eager", "eager PyTorch"), ("torchscript", "TorchScript (traced, frozen)"),
                           ("ort", f"ONNX Runtime, {args.threads} threads"), ("ort1", "ONNX Runtime, 1 thread")):
        a, b = ms[f"{runtime} mmtm"], ms[f"{runtime} late"]
        c, d = ms_min[f"{runtime} mmtm"], ms_min[f"{runtime} late"]
        lines.append(f"| step time, {label} | {a:.2f} ms | {b:.2f} ms | {pair[runtime]:.3f} "
                     f"| {c:.2f} ms | {d:.2f} ms | {c / d:.3f} |")
    a, b = ms["ort1 three"], ms["ort1 late"]
    c, d = ms_min["ort1 three"], ms_min["ort1 late"]
    lines.append(f"| FLOPs / step time (ONNX Runtime, 1 thread) with MMTM after stages 1, 2, 3 instead "
                 f"| {fl['three']:.2f} M, {a:.2f} ms | | {pair['three']:.3f} | {c:.2f} ms | | {c / d:.3f} |")
    recompute = ms["window recompute (streaming, eager)"]
    recompute_ort = ms["window recompute (streaming, ort1)"]
    lines += [
        "",
        f"Fastest runtime for the MMTM step: **{best}** (ort1 = ONNX Runtime with 1 thread), {ms[best + ' mmtm']:.2f} ms per step (target ≤ 5 ms).",
        f"MMTM adds {100 * (fl['mmtm'] / fl['late'] - 1):.2f}% FLOPs (target ≤ 5%) and "
        f"{100 * (pair[best] - 1):+.1f}% step time in {best} (median of paired calls) "
        f"({100 * (ms_min[best + ' mmtm'] / ms_min[best + ' late'] - 1):+.1f}% by minima; target < 15%).",
        "",
        "| streaming vs recomputing the window (batch 1) | eager | ONNX Runtime, 1 thread | FLOPs |",
        "| --- | ---: | ---: | ---: |",
        f"| step() on the newest frame | {ms['eager mmtm']:.2f} ms | {ms['ort1 mmtm']:.2f} ms | {fl['mmtm']:.1f} M |",
        f"| forward over the whole window of {config.input.window} frames | {recompute:.1f} ms | "
        f"{recompute_ort:.1f} ms | {info['mmtm']['window_forward_flops'] / 1e6:.0f} M |",
        f"| ratio window / step | {recompute / ms['eager mmtm']:.1f}x | {recompute_ort / ms['ort1 mmtm']:.1f}x | "
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
    if args.out:
        Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
