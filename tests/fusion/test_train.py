"""Training: loss drops on a separable set, resume continues exactly, the unimodal → fusion recipe, bad input."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fusion.checkpoint import load_checkpoint, read_checkpoint
from fusion.errors import BadInput
from fusion.model_config import ModelConfig
from fusion.train import _loss, predict, train
from fusion.train_config import TrainConfig
from fusion.train_state import state_path
from main import main
from tests.fusion.train_data import TINY, one_thread, separable_clips  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("one_thread")  # torch on one thread in every test here


MODEL_FIELDS = {f.name for f in dataclasses.fields(ModelConfig)}


def config(tmp_path, name, **changes):
    """A quick run of the TINY network; ``changes`` may name fields of TrainConfig and of its model."""
    model = TINY.replace(**{k: changes.pop(k) for k in list(changes) if k in MODEL_FIELDS})
    base = dict(data=str(tmp_path), out=str(tmp_path / f"{name}.pt"), model=model, epochs=4, batch=8, lr=1e-2,
                augment=None, val_fraction=0.0, progress=False)
    base.update(changes)
    return TrainConfig(**base)


def test_loss_drops_and_accuracy_rises_on_a_separable_set(tmp_path):
    clips = separable_clips()
    cfg = config(tmp_path, "skel", modalities=("skeleton",), epochs=6)
    summary = train(cfg, clips=clips)
    loss = summary["history"]["train_loss"]
    assert loss[-1] < 0.6 * loss[0]
    model, meta = load_checkpoint(cfg.out)
    pred, _ = predict(model, clips, np.arange(len(clips)), ("skeleton",))
    assert (pred == clips.label).mean() >= 0.9
    assert meta.labels == clips.labels and meta.training["epochs"] == 6
    assert (tmp_path / "skel.curves.png").stat().st_size > 1000


def test_resume_continues_where_it_stopped(tmp_path):
    clips = separable_clips()
    full = config(tmp_path, "full", modalities=("skeleton",), epochs=3)
    train(full, clips=clips)

    class Crash(Exception):
        pass

    def crash_after_first(epoch, model):
        if epoch == 1:
            raise Crash

    part = config(tmp_path, "part", modalities=("skeleton",), epochs=3)
    with pytest.raises(Crash):
        train(part, clips=clips, on_epoch=crash_after_first)
    assert read_checkpoint(part.out)[0].training["epochs"] == 1
    summary = train(config(tmp_path, "part", modalities=("skeleton",), epochs=3, resume=part.out), clips=clips)
    assert len(summary["history"]["train_loss"]) == 3
    a, b = read_checkpoint(full.out)[1], read_checkpoint(part.out)[1]
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-6), k


def test_recipe_unimodal_streams_to_mmtm_and_late_fusion(tmp_path):
    clips = separable_clips()
    uni = {}
    for m in ("rgb", "skeleton"):
        cfg = config(tmp_path, m, modalities=(m,), epochs=1, max_steps_per_epoch=2)
        train(cfg, clips=clips)
        uni[m] = cfg.out
    init = tuple(uni.items())
    mmtm = config(tmp_path, "mmtm", fusion="mmtm", modalities=("rgb", "skeleton"), epochs=0, init=init)
    late = config(tmp_path, "late", fusion="late", modalities=("rgb", "skeleton"), epochs=0, init=init)
    train(mmtm, clips=clips)
    train(late, clips=clips)
    x, _ = clips.batch(np.arange(6), ("rgb", "skeleton"))
    singles = {m: load_checkpoint(uni[m])[0](x).logits for m in uni}
    with torch.no_grad():
        fused = load_checkpoint(mmtm.out)[0](x)
        averaged = load_checkpoint(late.out)[0](x)
    for m in uni:  # MMTM paper variant is the identity at init: each stream starts as trained alone
        assert torch.allclose(fused.streams[m], singles[m], atol=1e-5)
    pooled = config(tmp_path, "pooled", fusion="mmtm", modalities=("rgb", "skeleton"), epochs=0, init=init,
                    mmtm_stages=(), mmtm_pooled=True)
    train(pooled, clips=clips)
    net = load_checkpoint(pooled.out)[0]
    assert sorted(net.mmtm) == ["pooled"]
    with torch.no_grad():
        for m in uni:
            assert torch.allclose(net(x).streams[m], singles[m], atol=1e-5)
    temporal = config(tmp_path, "temporal", fusion="mmtm", modalities=("rgb", "skeleton"), epochs=0, init=init,
                      mmtm_stages=(), mmtm_temporal=(0, 2))
    train(temporal, clips=clips)
    net = load_checkpoint(temporal.out)[0]
    assert sorted(net.mmtm) == ["temporal0", "temporal2"]
    with torch.no_grad():
        for m in uni:
            assert torch.allclose(net(x).streams[m], singles[m], atol=1e-5)
    assert torch.allclose(averaged.logits, (singles["rgb"] + singles["skeleton"]) / 2, atol=1e-5)
    # and fine-tuning the MMTM network from there runs, with modality dropout
    tuned = config(tmp_path, "tuned", fusion="mmtm", modalities=("rgb", "skeleton"), epochs=1, init=init,
                   modality_dropout=0.5, max_steps_per_epoch=2)
    assert np.isfinite(train(tuned, clips=clips)["history"]["train_loss"][0])
    assert read_checkpoint(tuned.out)[0].training["recipe"]["init"] == dict(init)


def test_bad_inputs_exit_2(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["train", "--data", str(missing), "--out", str(tmp_path / "a.pt"), "--quiet"]) == 2
    assert "data folder not found" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "a.pt"),
                 "--modalities", "rgb,sonar", "--quiet"]) == 2
    assert "--modalities" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "a.pt"), "--fusion", "none",
                 "--modalities", "rgb,depth", "--quiet"]) == 2
    capsys.readouterr()
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "a.pt"), "--aux-loss", "-1",
                 "--quiet"]) == 2
    assert "--aux-loss" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "a.pt"), "--fusion", "mmtm",
                 "--modalities", "rgb,skeleton", "--mmtm-stages", "2,x", "--quiet"]) == 2
    assert "--mmtm-stages" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "a.pt"), "--fusion", "late",
                 "--modalities", "rgb,skeleton", "--mmtm-pooled", "--quiet"]) == 2
    assert "--fusion mmtm" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "a.pt"), "--fusion", "late",
                 "--modalities", "rgb,skeleton", "--mmtm-temporal", "0", "--quiet"]) == 2
    assert "--mmtm-temporal" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "a.pt"), "--fusion", "mmtm",
                 "--modalities", "rgb,skeleton", "--mmtm-stages", "", "--quiet"]) == 2
    assert "mmtm_pooled" in capsys.readouterr().err  # --mmtm-stages '' alone leaves no MMTM
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"PK\x03\x04 not a checkpoint")
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "a.pt"), "--fusion", "mmtm",
                 "--modalities", "rgb,skeleton", "--init", f"rgb={corrupt}", "--quiet"]) == 2
    assert "corrupt.pt" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "a.pt"), "--quiet"]) == 2  # no index.json
    with pytest.raises(BadInput, match="state"):
        clips = separable_clips()
        cfg = config(tmp_path, "s", modalities=("skeleton",), epochs=1, max_steps_per_epoch=1)
        train(cfg, clips=clips)
        state_path(cfg.out).unlink()
        train(config(tmp_path, "s", modalities=("skeleton",), epochs=2, resume=cfg.out), clips=clips)


def test_windowed_shape_trains_too(tmp_path):
    clips = separable_clips()
    cfg = config(tmp_path, "win", shape="windowed", fusion="mmtm", modalities=("depth", "skeleton"), epochs=1,
                 max_steps_per_epoch=2, modality_dropout=0.3)
    summary = train(cfg, clips=clips)
    meta, _ = read_checkpoint(cfg.out)
    assert meta.config.shape == "windowed" and np.isfinite(summary["history"]["train_loss"][0])


def test_stream_windows_are_labelled_by_what_the_model_last_saw():
    from fusion.data.model_inputs import window_labels

    segments = [(3, 40, 60), (5, 100, 160)]  # a short dynamic gesture, a long static one
    picks = dict(window_labels(segments, 200, frames=32, last=20, stride=2, min_seen=0.6, no_gesture=0))
    assert picks[0] == 0                     # frames 12..31: nothing yet
    assert picks[30] == 3                    # last frames 42..61: the whole first gesture
    assert 16 not in picks                   # last frames 28..47: only the start of it (ambiguous)
    assert picks[100] == 5                   # last frames 112..131: inside the long static gesture
    assert all(label in (0, 3, 5) for label in picks.values())
    assert picks[168] == 0                   # last frames 180..199: after everything


def test_aux_loss_weighs_the_streams_own_losses():
    torch.manual_seed(0)
    labels = torch.tensor([0, 1, 2, 1])
    streams = {"rgb": torch.randn(4, 3), "skeleton": torch.randn(4, 3)}
    out = SimpleNamespace(logits=(streams["rgb"] + streams["skeleton"]) / 2, streams=streams)
    config = TrainConfig(data="d", out="o.pt", label_smoothing=0.0)
    fused = F.cross_entropy(out.logits, labels)
    each = torch.stack([F.cross_entropy(v, labels) for v in streams.values()]).mean()
    assert float(_loss(out, labels, None, dataclasses.replace(config, aux_loss=0.0))) == pytest.approx(float(fused))
    assert float(_loss(out, labels, None, dataclasses.replace(config, aux_loss=0.5))) == pytest.approx(
        float(fused + 0.5 * each))


def test_rgb_differences_train_and_carry_into_the_fusion_recipe(tmp_path):
    clips = separable_clips(frames=20)
    rgb = config(tmp_path, "rgb", modalities=("rgb",), epochs=1, max_steps_per_epoch=2, rgb_input="motion")
    skeleton = config(tmp_path, "skeleton", modalities=("skeleton",), epochs=1, max_steps_per_epoch=2)
    train(rgb, clips=clips)
    train(skeleton, clips=clips)
    init = (("skeleton", skeleton.out), ("rgb", rgb.out))  # the rgb checkpoint second: what it sees still counts
    mmtm = config(tmp_path, "mmtm", fusion="mmtm", modalities=("rgb", "skeleton"), epochs=0, init=init)
    train(mmtm, clips=clips)
    model, meta = load_checkpoint(mmtm.out)
    assert meta.config.rgb_input == "motion" and model.lead_frames == 1
    x, _ = clips.batch(np.arange(6), ("rgb", "skeleton"), lead=model.lead_frames)
    assert x["rgb"].shape[2] == TINY.input.window + 1  # the window and the frame before it
    alone = load_checkpoint(rgb.out)[0]
    with torch.no_grad():
        assert torch.allclose(model(x).streams["rgb"], alone({"rgb": x["rgb"]}).logits, atol=1e-5)
    with pytest.raises(ValueError, match="streaming shape"):
        config(tmp_path, "bad", modalities=("rgb",), shape="windowed", rgb_input="motion")


@pytest.mark.parametrize("frames", [TINY.input.window, TINY.input.window - 3])
def test_a_clip_too_short_for_the_frame_before_repeats_its_first_frame(frames):
    clips = separable_clips(n=3, frames=frames)
    x, _ = clips.batch(np.arange(3), ("rgb", "skeleton"), lead=1)
    plain, _ = clips.batch(np.arange(3), ("rgb", "skeleton"))
    assert x["rgb"].shape[2] == plain["rgb"].shape[2] + 1 == min(TINY.input.window, frames) + 1
    assert torch.equal(x["rgb"][:, :, 0], x["rgb"][:, :, 1])  # the first frame is its own reference
    assert torch.equal(x["rgb"][:, :, 1:], plain["rgb"]) and torch.equal(x["skeleton"][:, :, 1:], plain["skeleton"])
