"""Tiny data for the training, evaluation and DDP tests."""

from pathlib import Path

import numpy as np
import pytest
import torch

from fusion.data.model_inputs import PreparedClips
from fusion.preprocess import InputSpec
from fusion.train_config import TRAIN_MODEL


@pytest.fixture
def one_thread():
    """Training tests run torch on one thread (import it into a test module with autouse)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


SPEC = InputSpec(width=32, height=24, window=16)
# the network the training tests build (the skeleton stream alone unless a test says otherwise)
TINY = TRAIN_MODEL.replace(input=SPEC, video_widths=(4, 8, 8, 8), skeleton_widths=(8, 8, 8, 8), temporal_channels=8,
                           temporal_dilations=(1, 2, 4))
LABELS = ("no_gesture", "fist", "swipe_left")


def separable_clips(n: int = 24, frames: int = 16, seed: int = 0) -> PreparedClips:
    """A trivially separable set: the class shifts the hand's image position and the image brightness."""
    rng = np.random.default_rng(seed)
    label = np.arange(n) % len(LABELS)
    skel = rng.normal(0, 0.3, (n, frames, SPEC.skeleton_channels, SPEC.joints)).astype(np.float16)
    skel[:, :, 3] += (label[:, None, None] - 1.0).astype(np.float16) * 0.8  # x position by class
    skel[:, :, 7] = 1.0
    rgb = rng.integers(0, 60, (n, frames, SPEC.height, SPEC.width, 3)).astype(np.uint8)
    rgb += (label * 80).astype(np.uint8)[:, None, None, None, None]
    depth = rng.random((n, frames, SPEC.height, SPEC.width)).astype(np.float16)
    active = np.tile(np.array([[0, frames]], np.int32), (n, 1))
    return PreparedClips(rgb=rgb, depth=depth, skeleton=skel, label=label.astype(np.int64), active=active,
                         labels=LABELS, spec=SPEC)


def write_tiny_dataset(out: Path, *, clips: int = 6, streams: int = 1) -> Path:
    """A real synthetic dataset on disk (3 labels, 32x24 frames, 16-frame clips, 2-gesture streams)."""
    from fusion.data.synthetic.dataset_files import write_dataset
    from fusion.data.synthetic.world import SynthConfig

    cfg = SynthConfig(width=32, height=24, frames=16, stream_gestures=2, labels=LABELS)
    write_dataset(out, clips=clips, streams=streams, seed=3, config=cfg, workers=1)
    return out
