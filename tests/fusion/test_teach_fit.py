"""Teach's fine-tune on the frozen stages' cached features (fusion.teach_fit)."""

import numpy as np
import pytest
import torch

from fusion.augment_config import AugmentConfig
from fusion.checkpoint import load_checkpoint, read_checkpoint
from fusion.teach import FRAME_STAGES, TEMPORAL_LAYERS, skeleton_world_clips
from fusion.teach_fit import features_of, fit_cached, windows
from tests.app.engine_fixtures import tiny_checkpoint


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return str(tiny_checkpoint(tmp_path_factory.mktemp("base") / "skeleton.pt", fusion="none",
                               modalities=("skeleton",)))


@pytest.fixture(scope="module")
def clips(base):
    meta, _ = read_checkpoint(base)
    return skeleton_world_clips(meta.labels, meta.config.input, 34, seed=5, labels=tuple(meta.labels))


def test_the_cached_features_give_the_model_s_own_answers(base, clips):
    model, _ = load_checkpoint(base)
    idx = np.arange(len(clips))
    for starts in (clips.crop_starts(idx, None), clips.crop_starts(idx, np.random.default_rng(3))):
        x, _ = clips.batch(idx, ("skeleton",), starts=starts)
        with torch.no_grad():
            cached = features_of(model, clips, 1, None, torch.Generator())[0]  # (N, C, T): every frame
            got = model.streams["skeleton"].temporal(windows(cached, clips, idx, starts))
            torch.testing.assert_close(got, model(x).logits, rtol=1e-5, atol=1e-5)


def test_each_view_draws_its_own_augmentation(base, clips):
    model, _ = load_checkpoint(base)
    views = features_of(model, clips, 2, AugmentConfig(), torch.Generator().manual_seed(0))
    plain = features_of(model, clips, 1, None, torch.Generator())
    assert views.shape == (2,) + plain.shape[1:]
    assert not torch.allclose(views[0], views[1]) and not torch.allclose(views[0], plain[0])


def test_fit_cached_learns_with_the_stages_as_they_were(tmp_path, base, clips):
    out = tmp_path / "p.pt"
    grown = clips.relabel(clips.labels + ("wave",))
    seconds = fit_cached(base, str(out), grown, frozen=(FRAME_STAGES,), epochs=6, lr=3e-3, batch=8, seed=0, views=2)
    meta, after = read_checkpoint(out)
    _, before = read_checkpoint(base)
    assert seconds > 0 and meta.labels[-1] == "wave" and meta.config.num_classes == len(before["streams.skeleton."
                                                                                             "temporal.fc.bias"]) + 1
    stages = [k for k in before if k.startswith("streams.skeleton.stages.")]
    assert stages and all(torch.equal(after[k], before[k]) for k in stages)  # batch-norm statistics too
    assert not torch.equal(after["streams.skeleton.temporal.layers.0.conv.weight"],
                           before["streams.skeleton.temporal.layers.0.conv.weight"])
    history = meta.training["history"]["train_loss"]
    assert len(history) == 6 and history[-1] < history[0]
    assert meta.training["recipe"]["cached_features"] == {"views": 2}


def test_fit_cached_with_the_temporal_layers_frozen_moves_the_classifier_alone(tmp_path, base, clips):
    out = tmp_path / "p.pt"
    fit_cached(base, str(out), clips, frozen=(FRAME_STAGES, TEMPORAL_LAYERS), epochs=2, lr=3e-3, batch=8, seed=0,
               views=1)
    _, after = read_checkpoint(out)
    _, before = read_checkpoint(base)
    assert all(torch.equal(after[k], before[k]) for k in before if ".fc." not in k)
    assert not torch.equal(after["streams.skeleton.temporal.fc.weight"], before["streams.skeleton.temporal.fc.weight"])


def test_fit_cached_needs_the_stages_frozen(tmp_path, base, clips):
    with pytest.raises(ValueError, match="stages frozen"):
        fit_cached(base, str(tmp_path / "p.pt"), clips, frozen=(), epochs=1, lr=1e-3, batch=8, seed=0, views=1)
