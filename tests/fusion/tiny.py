"""Tiny model configurations that keep the fusion tests fast."""

import torch
from torch import nn

from fusion.model_config import ModelConfig
from fusion.preprocess import InputSpec

SPEC = InputSpec(width=32, height=24, window=12, joints=21)


def tiny_config(**changes) -> ModelConfig:
    base = dict(input=SPEC, mmtm_stages=(1, 2, 3), video_widths=(4, 8, 8, 8), skeleton_widths=(8, 8, 8, 8),
                temporal_channels=8, temporal_dilations=(1, 2), num_classes=5)
    base.update(changes)
    return ModelConfig(**base)


def tiny_inputs(config: ModelConfig, *, batch: int = 2, frames: int | None = None, seed: int = 0,
                modalities=None) -> dict:
    g = torch.Generator().manual_seed(seed)
    spec = config.input
    t = frames or spec.window
    shapes = {"rgb": (batch, 3, t, spec.height, spec.width), "depth": (batch, 1, t, spec.height, spec.width),
              "skeleton": (batch, spec.skeleton_channels, t, spec.joints)}
    return {m: torch.randn(shapes[m], generator=g) for m in (modalities or config.modalities)}


def randomise(model: nn.Module, seed: int = 1) -> nn.Module:
    """Random weights everywhere (MMTM excitation included) and random BN statistics."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model
