"""Rendered and skeleton-only clips in one training set (``model_inputs.concat``, ``PreparedClips.presence``):
the skeleton-only clips' images are absent in training and in ``predict``, never zeros fed as present."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from fusion.checkpoint import load_checkpoint
from fusion.data.model_inputs import SKELETON_ONLY, concat
from fusion.errors import BadInput
from fusion.train import _with_what_clips_lack, predict, train
from tests.fusion.test_train import config
from tests.fusion.train_data import one_thread, separable_clips  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("one_thread")  # torch on one thread, as in the other training tests

MODALITIES = ("rgb", "depth", "skeleton")


def _skeleton_only(n: int, seed: int = 1):
    """``n`` clips as the keypoint table and the readings give them: no images, rgb and depth missing."""
    clips = separable_clips(n, seed=seed)
    frames = clips.frames
    return replace(clips, rgb=np.zeros((n, frames, 0, 0, 3), np.uint8), depth=np.zeros((n, frames, 0, 0), np.float16),
                   missing=SKELETON_ONLY)


def test_skeleton_only_clips_join_rendered_ones_with_their_images_absent():
    rendered, alone = separable_clips(6), _skeleton_only(4)
    mixed = concat([rendered, alone])
    assert len(mixed) == 10 and mixed.missing == ()
    assert mixed.images.tolist() == [True] * 6 + [False] * 4
    assert mixed.rgb.shape[2:] == rendered.rgb.shape[2:] and not mixed.rgb[6:].any() and not mixed.depth[6:].any()
    assert np.array_equal(mixed.rgb[:6], rendered.rgb) and np.array_equal(mixed.skeleton[6:], alone.skeleton)
    has = mixed.presence(np.array([0, 7, 5, 9]), MODALITIES)
    assert has["rgb"].tolist() == has["depth"].tolist() == [1, 0, 1, 0] and has["skeleton"].tolist() == [1] * 4
    assert mixed.presence(np.arange(6), MODALITIES) is None          # rendered clips have everything
    assert mixed.presence(np.arange(10), ("skeleton",)) is None      # and every clip has a skeleton
    # subsets and relabelled copies keep the marks
    part = mixed.subset(np.array([9, 0]))
    assert part.images.tolist() == [False, True]
    assert mixed.relabel(tuple(reversed(mixed.labels))).images.tolist() == mixed.images.tolist()
    # skeleton-only data alone stays as it was: the modalities missing for every clip
    both = concat([alone, _skeleton_only(2, seed=2)])
    assert both.images is None and both.missing == SKELETON_ONLY
    assert both.presence(np.arange(3), MODALITIES)["rgb"].tolist() == [0, 0, 0]
    with pytest.raises(BadInput, match="image sizes"):
        concat([rendered, replace(rendered, rgb=rendered.rgb[:, :, :8])])


def test_a_clip_never_gets_a_modality_it_lacks_and_never_loses_all():
    has = {"rgb": torch.tensor([1.0, 0.0, 0.0]), "skeleton": torch.ones(3)}
    dropped = {"rgb": torch.tensor([1.0, 1.0, 1.0]), "skeleton": torch.tensor([1.0, 1.0, 0.0])}
    present = _with_what_clips_lack(dropped, has)
    assert present["rgb"].tolist() == [1, 0, 0]
    assert present["skeleton"].tolist() == [1, 1, 1]   # the third clip lost its skeleton and has no rgb: back
    assert _with_what_clips_lack(None, has)["rgb"].tolist() == [1, 0, 0]  # no dropout: what the clips have
    assert _with_what_clips_lack(dropped, None) is dropped
    # the first modality a clip has comes back, as for data missing a modality throughout
    none = {"rgb": torch.zeros(2), "skeleton": torch.zeros(2)}
    assert _with_what_clips_lack(none, {"rgb": torch.ones(2), "skeleton": torch.ones(2)})["rgb"].tolist() == [1, 1]


def test_predict_leaves_the_missing_images_out_and_training_on_a_mix_runs(tmp_path):
    mixed = concat([separable_clips(24), _skeleton_only(12)])
    cfg = config(tmp_path, "late", fusion="late", modalities=("rgb", "skeleton"), epochs=1, modality_dropout=0.3,
                 val_fraction=0.25)
    summary = train(cfg, clips=mixed)
    assert np.isfinite(summary["history"]["train_loss"][0]) and summary["val_top1"] is not None
    model, _ = load_checkpoint(cfg.out)
    alone = np.arange(24, 36)
    fused, streams = predict(model, mixed, alone, ("rgb", "skeleton"))
    # late fusion averages the present streams: for clips without images that is the skeleton's answer
    x, _ = mixed.batch(alone, ("rgb", "skeleton"))
    with torch.no_grad():
        out = model(x, {"rgb": torch.zeros(12), "skeleton": torch.ones(12)})
        as_present = model(x)
    assert np.array_equal(fused, out.logits.argmax(1).numpy())
    assert torch.allclose(out.logits, out.streams["skeleton"], atol=1e-6)
    assert not torch.allclose(as_present.logits, out.logits)  # zeros fed as present would answer otherwise
