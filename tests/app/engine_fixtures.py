"""Tiny checkpoints and recordings for the engine tests (no hardware, no trained model)."""

import numpy as np
import torch

from fusion.build import build_model
from fusion.checkpoint import save_checkpoint
from fusion.data.recording import RecordingWriter
from fusion.data.sample import Skeleton
from fusion.labels import DEFAULT_LABELS
from fusion.model_config import ModelConfig
from fusion.preprocess import InputSpec
from tests.fusion.tiny import randomise

SPEC = InputSpec(width=32, height=24, window=8, joints=21)
T0 = 10**9
PERIOD = 33_333_333


def tiny_model_config(**changes) -> ModelConfig:
    base = dict(input=SPEC, video_widths=(4, 8, 8, 8), skeleton_widths=(8, 8, 8, 8), temporal_channels=8,
                temporal_dilations=(1, 2), num_classes=len(DEFAULT_LABELS))
    base.update(changes)
    return ModelConfig(**base)


def tiny_checkpoint(path, *, seed: int = 1, **changes):
    """A randomised (untrained) tiny model saved as a checkpoint at ``path``."""
    torch.manual_seed(seed)
    model = randomise(build_model(tiny_model_config(**changes)).eval(), seed=seed)
    save_checkpoint(path, model, labels=DEFAULT_LABELS, training={"note": "tiny test model"})
    return path


def write_moving(path, n=60, *, h=24, w=32, labels=(("swipe_left", 0.2, 1.0),)):
    """depth, color and skeleton every frame at 30 fps, content that changes over time; labels in seconds."""
    rng = np.random.default_rng(0)
    with RecordingWriter(path, meta={"device": {"name": "test"}}) as rec:
        rec.set_stream("depth", {"width": w, "height": h, "fps": 30.0, "depth_scale": 0.001})
        rec.set_stream("color", {"width": w, "height": h, "fps": 30.0})
        for i in range(n):
            t = T0 + i * PERIOD
            rec.write("depth", (500 + 20 * i + rng.integers(0, 50, (h, w))).astype(np.uint16), index=i, host_ns=t,
                      device_ms=t / 1e6)
            rec.write("color", rng.integers(0, 255, (h, w, 3), dtype=np.uint8), index=i, host_ns=t + 1_000_000)
            xyz = rng.random((21, 3)).astype(np.float32)
            rec.write("skeleton", Skeleton(xyz) if i % 5 else None, index=i, host_ns=t + 2_000_000)
        for label, a, b in labels:
            rec.add_label(label, start_ns=T0 + int(a * 1e9), end_ns=T0 + int(b * 1e9))
    return path
