"""Parameters and FLOPs per stream, per MMTM and in total, so that MMTM's cost is visible.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (convolutions and matrix
products, 2 FLOPs per multiply-add) for ONE step of a streaming model (one frame) or one window of
a windowed model, at batch 1. FlopCounterMode ignores element-wise work (BN, ReLU, residual adds)
everywhere; for MMTM alone we add its element-wise cost too (the squeeze's mean and the gating
multiply: 2 FLOPs per input element), so MMTM's share is, if anything, overstated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from fusion.build import build_model
from fusion.export import StepExport, WindowExport, example_inputs
from fusion.model_config import ModelConfig
from fusion.streaming import StreamingFusionNet


@dataclass(frozen=True)
class ModelInfoConfig:
    model: str | None = None  # a checkpoint; None: an untrained model of ``architecture``
    architecture: ModelConfig = ModelConfig()
    json: bool = False


def _count(module: nn.Module, inputs: list[torch.Tensor], mmtms: dict[str, nn.Module]) -> tuple[dict, dict]:
    elementwise: dict[str, int] = {}
    hooks = []
    for name, mmtm in mmtms.items():
        def hook(_module, args, name=name):
            elementwise[name] = elementwise.get(name, 0) + 2 * sum(a.numel() for a in args)
        hooks.append(mmtm.register_forward_pre_hook(hook))
    try:
        with torch.no_grad(), FlopCounterMode(display=False, depth=None) as counter:
            module(*inputs)
    finally:
        for h in hooks:
            h.remove()
    counts = {k: sum(v.values()) for k, v in counter.get_flop_counts().items()}
    return counts, elementwise


def _under(counts: dict[str, int], prefix: str) -> int:
    """FLOPs of the outermost recorded modules under ``prefix`` (no double counting of nesting)."""
    keys = [k for k in counts if k == prefix or k.startswith(prefix + ".")]
    top = [k for k in keys if not any(k != a and k.startswith(a + ".") for a in keys)]
    return sum(counts[k] for k in top)


def model_info(model: nn.Module) -> dict:
    """Params and FLOPs of ``model`` by part: {"params": {part: n}, "flops": {part: n}, …}."""
    model = model.eval()
    streaming = isinstance(model, StreamingFusionNet)
    wrapper = StepExport(model) if streaming else WindowExport(model)
    _, inputs = example_inputs(model)
    root = type(wrapper).__name__ + ".net"
    mmtms = {f"mmtm.{k}": v for k, v in model.mmtm.items()}
    counts, elementwise = _count(wrapper, inputs, mmtms)

    params, flops = {}, {}
    for m in model.modalities:
        params[m] = sum(p.numel() for p in model.streams[m].parameters())
        flops[m] = _under(counts, f"{root}.streams.{m}")
    for name, mmtm in mmtms.items():
        params[name] = sum(p.numel() for p in mmtm.parameters())
        flops[name] = _under(counts, f"{root}.{name}") + elementwise.get(name, 0)
    params["total"] = sum(p.numel() for p in model.parameters())
    flops["total"] = sum(v for k, v in flops.items())
    mmtm_flops = sum(flops[k] for k in mmtms)
    spec = model.config.input
    info = {
        "shape": model.config.shape,
        "fusion": model.config.fusion,
        "modalities": list(model.modalities),
        "input": {"width": spec.width, "height": spec.height, "window": spec.window, "joints": spec.joints},
        "unit": "one step (one frame), batch 1" if streaming else f"one window of {spec.window} frames, batch 1",
        "params": params,
        "flops": flops,
        "mmtm_flops_share": mmtm_flops / flops["total"] if flops["total"] else 0.0,
    }
    if streaming:
        frames = spec.window + model.lead_frames
        window_inputs = {m: x.unsqueeze(2).expand(*x.shape[:2], frames, *x.shape[2:])
                         for m, x in zip(model.modalities, inputs)}
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(window_inputs)
        info["window_forward_flops"] = counter.get_total_flops()
    return info


def format_info(info: dict) -> str:
    """A plain-text table of ``model_info``'s result."""
    spec = info["input"]
    w = max(12, *(len(part) for part in info["params"]))  # the part column (mmtm.temporal0 is 14 wide)
    lines = [
        f"{info['shape']} model, fusion {info['fusion']}, modalities {'+'.join(info['modalities'])}, "
        f"input {spec['width']}x{spec['height']}, T={spec['window']}, J={spec['joints']}",
        f"FLOPs for {info['unit']}",
        f"{'part':<{w}} {'params':>12} {'MFLOPs':>12}",
    ]
    for part, n in info["params"].items():
        lines.append(f"{part:<{w}} {n:>12,} {info['flops'][part] / 1e6:>12.3f}")
    lines.append(f"MMTM share of FLOPs: {100 * info['mmtm_flops_share']:.2f}%")
    if "window_forward_flops" in info:
        lines.append(f"forward over a whole window (recompute): {info['window_forward_flops'] / 1e6:.1f} MFLOPs")
    return "\n".join(lines)


def run_model_info(config: ModelInfoConfig) -> str:
    """The text (or JSON) that ``python main.py model-info`` prints."""
    if config.model:
        from fusion.checkpoint import load_checkpoint

        model, _ = load_checkpoint(config.model)
    else:
        model = build_model(config.architecture)
    info = model_info(model)
    return json.dumps(info) if config.json else format_info(info)
