"""fusion.augment's skeleton augmentations: roll, position, hand size, z scale and z dropout."""

import dataclasses

import numpy as np
import torch

from fusion.augment import augment
from fusion.augment_config import AugmentConfig
from fusion.preprocess import preprocess_skeleton

OFF = AugmentConfig(shift=0.0, brightness=0.0, contrast=0.0, channel_gain=0.0, depth_offset=0.0, joint_jitter=0.0,
                    roll_deg=0.0, hand_scale=0.0, z_scale=0.0, z_dropout=0.0, skeleton_shift=0.0, skeleton_scale=1.0)
B, T, J = 6, 10, 21


def _skeleton(seed: int = 0) -> torch.Tensor:
    """(B, 8, T, J) preprocessed random hands; frames 3 and 7 of every clip have no hand."""
    rng = np.random.default_rng(seed)
    out = np.zeros((B, 8, T, J), np.float32)
    for b in range(B):
        for t in range(T):
            if t in (3, 7):
                continue
            hand = np.c_[rng.uniform(0.3, 0.7, (J, 2)), rng.normal(0, 0.05, J)]
            out[b, :, t] = preprocess_skeleton(hand, "Right")
    return torch.from_numpy(out)


def _run(config: AugmentConfig, skeleton: torch.Tensor, seed: int = 1) -> torch.Tensor:
    return augment({"skeleton": skeleton}, config, torch.Generator().manual_seed(seed))["skeleton"]


def test_roll_turns_the_shape_and_keeps_each_joints_length():
    x = _skeleton()
    y = _run(dataclasses.replace(OFF, roll_deg=15.0), x)
    assert torch.allclose(torch.hypot(y[:, 0], y[:, 1]), torch.hypot(x[:, 0], x[:, 1]), atol=1e-5)
    assert torch.equal(y[:, 2:], x[:, 2:])  # z, position, size, handedness, presence untouched
    angle = torch.atan2(y[:, 1], y[:, 0]) - torch.atan2(x[:, 1], x[:, 0])
    angle = torch.rad2deg(torch.remainder(angle + torch.pi, 2 * torch.pi) - torch.pi)  # (B, T, J)
    seen = (x[:, 7] > 0) & (torch.hypot(x[:, 0], x[:, 1]) > 1e-3)
    for b in range(B):  # one angle per clip, within the configured range
        turns = angle[b][seen[b]]
        assert torch.allclose(turns, turns[0], atol=1e-3) and turns[0].abs() <= 15.0 + 1e-3
    assert len({round(float(angle[b][seen[b]][0]), 3) for b in range(B)}) == B  # differs between clips
    assert torch.equal(x, _skeleton())  # the input is not changed in place


def test_skeleton_scale_and_z_scale_scale_whole_clips_within_range():
    x = _skeleton()
    y = _run(dataclasses.replace(OFF, skeleton_scale=1.5, z_scale=0.4), x)
    seen = x[:, 7] > 0  # (B, T)
    for channel, (lo, hi) in ((5, (1 / 1.5, 1.5)), (2, (0.6, 1.4))):
        ratio = y[:, channel][seen] / x[:, channel][seen]
        ratio = ratio[torch.isfinite(ratio)].reshape(-1)
        assert ratio.min() >= lo - 1e-5 and ratio.max() <= hi + 1e-5
    for b in range(B):
        r5 = y[b, 5][seen[b]] / x[b, 5][seen[b]]
        assert torch.allclose(r5, r5[0], atol=1e-5)
    assert torch.equal(y[:, [0, 1, 3, 4, 6, 7]], x[:, [0, 1, 3, 4, 6, 7]])


def test_z_dropout_one_zeroes_z_and_nothing_else():
    x = _skeleton()
    assert x[:, 2].abs().sum() > 0
    y = _run(dataclasses.replace(OFF, z_dropout=1.0), x)
    assert not y[:, 2].any()
    assert torch.equal(y[:, [0, 1, 3, 4, 5, 6, 7]], x[:, [0, 1, 3, 4, 5, 6, 7]])
    assert torch.equal(_run(OFF, x), x)  # every strength 0: nothing changes


def test_z_dropout_drops_whole_clips_at_its_rate():
    x = _skeleton().repeat(40, 1, 1, 1)  # 240 clips
    y = augment({"skeleton": x}, dataclasses.replace(OFF, z_dropout=0.3), torch.Generator().manual_seed(2))["skeleton"]
    dropped = ~y[:, 2].flatten(1).any(dim=1)
    kept = torch.equal(y[~dropped][:, 2], x[~dropped][:, 2])
    assert kept and 0.15 < dropped.float().mean() < 0.45


def test_absent_frames_stay_zero_under_every_augmentation():
    x = _skeleton()
    strong = AugmentConfig(shift=0.2, joint_jitter=0.1, roll_deg=45.0, hand_scale=0.5, z_scale=0.5, z_dropout=0.5)
    for seed in range(5):
        y = _run(strong, x, seed)
        assert not y[:, :, [3, 7]].any()           # frames without a hand: still the "no hand" value
        assert torch.equal(y[:, 7], x[:, 7])       # presence is never changed
        assert torch.isfinite(y).all() and not torch.equal(y, x)
    assert torch.equal(_run(strong, x, 3), _run(strong, x, 3))  # the generator decides


def test_a_skeleton_without_images_moves_and_scales_farther_than_one_with_them():
    # alone, a hand may be anywhere and any size (skeleton_shift, skeleton_scale); beside rgb it
    # follows the pixels' small shift and hand_scale
    x = _skeleton().repeat(20, 1, 1, 1)  # 120 clips
    config = dataclasses.replace(OFF, shift=0.08, skeleton_shift=0.5, hand_scale=0.4, skeleton_scale=3.0)
    rgb = torch.zeros(len(x), 3, T, 24, 32)
    alone = _run(config, x)
    beside = augment({"skeleton": x, "rgb": rgb}, config, torch.Generator().manual_seed(1))["skeleton"]
    seen = x[:, 7] > 0
    for y, (shift, lo, hi) in ((alone, (0.5, 1 / 3, 3.0)), (beside, (0.08 + 0.5 / 32, 0.6, 1.4))):  # whole pixels
        moved = (y[:, 3] - x[:, 3])[seen]
        size = (y[:, 5] / x[:, 5])[seen]
        assert moved.abs().max() <= shift + 1e-5 and moved.abs().max() > 0.7 * shift
        assert size.min() >= lo - 1e-5 and size.max() <= hi + 1e-5
        assert size.max() > 0.8 * hi and size.min() < lo / 0.8
        assert torch.equal(y[:, :2], x[:, :2])  # the hand's shape is the same wherever it is
