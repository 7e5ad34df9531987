"""GPU benchmark of the engine's model step: CUDA, fp32/fp16/bf16, CUDA graphs, batched cameras.

    python benchmarks/bench_gpu.py [--model PATH|untrained] [--rounds 200] [--out docs/BENCHMARKS-gpu.md]

Every variant runs through ``app.model_runner.ModelRunner`` (the engine's own runner: pinned host
buffers, non-blocking copies, warm-up), back to back in one run; times are medians of ``--rounds``
steps measured host-side around one ``step`` (host → device copy, model, device → host logits,
synchronised), so they are what the inference worker sees. "cameras" = streams batched into one
call, as the worker does on CUDA. Also times the ONNX Runtime backend when onnxruntime-gpu
provides CUDA. Without a CUDA GPU the script says so and exits 0 (nothing is written).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="untrained", help="checkpoint, or 'untrained' (default architecture)")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS-gpu.md"))
    args = parser.parse_args()

    import numpy as np
    import torch

    if not torch.cuda.is_available():
        print("bench_gpu: no CUDA GPU available to PyTorch here; skipped (nothing written)")
        return 0

    from app.model_runner import ModelRunner, RunnerConfig

    rows = []
    variants = [(p, "eager", g, b) for p in ("fp32", "fp16", "bf16") for g in (False, True) for b in (1, 2, 4)]
    variants += [("fp32", "torchscript", False, 1)]
    try:
        import onnxruntime as ort

        if "CUDAExecutionProvider" in ort.get_available_providers():
            variants += [("fp32", "onnxruntime", False, 1), ("fp32", "onnxruntime", False, 4)]
    except ImportError:
        pass
    for k, (precision, backend, graphs, batch) in enumerate(variants):
        print(f"[bench_gpu] {k + 1}/{len(variants)}: {precision} {backend} graphs={graphs} cameras={batch}",
              file=sys.stderr, flush=True)
        runner = ModelRunner.load(RunnerConfig(model=args.model, device="cuda", backend=backend, precision=precision,
                                               cuda_graphs=graphs, warmup=10))
        spec = runner.spec
        rng = np.random.default_rng(0)
        shapes = {"rgb": (batch, 3, spec.height, spec.width), "depth": (batch, 1, spec.height, spec.width),
                  "skeleton": (batch, spec.skeleton_channels, spec.joints)}
        frames = {m: rng.standard_normal(shapes[m]).astype(np.float32) for m in runner.modalities}
        present = np.ones((batch, len(runner.modalities)), np.float32)
        state = runner.initial_state(batch)
        for _ in range(10):
            _, state = runner.step(frames, present, state)
        times = []
        for _ in range(args.rounds):
            torch.cuda.synchronize()
            start = time.perf_counter()
            _, state = runner.step(frames, present, state)  # returns host logits: synchronises
            times.append((time.perf_counter() - start) * 1e3)
        median = statistics.median(times)
        rows.append((precision, backend, graphs, batch, median, median / batch, float(np.percentile(times, 95))))
        del runner
        torch.cuda.empty_cache()
    ref = rows[0][4]
    name = torch.cuda.get_device_name(0)
    lines = [
        "# GPU benchmark of the model step (engine runner)",
        "",
        f"Machine: {name}, torch {torch.__version__}, CUDA {torch.version.cuda}. Model: {args.model}.",
        f"Command: `python benchmarks/bench_gpu.py --model {args.model} --rounds {args.rounds}`. Medians of "
        f"{args.rounds} steps, host-side (copy in, model, logits out), one run.",
        "",
        "| precision | backend | CUDA graph | cameras (batch) | step ms | ms per camera | p95 ms | ratio vs fp32 eager 1 |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for precision, backend, graphs, batch, median, per, p95 in rows:
        lines.append(f"| {precision} | {backend} | {'yes' if graphs else 'no'} | {batch} | {median:.2f} | {per:.2f} | "
                     f"{p95:.2f} | {median / ref:.2f} |")
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
