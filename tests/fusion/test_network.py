import itertools

import pytest
import torch

from fusion.build import build_model
from fusion.checkpoint import read_checkpoint
from fusion.fusion_net import FusionOutput
from fusion.mmtm_placement import MMTMPlacement, Site
from fusion.model_config import MODALITIES, ModelConfig
from fusion.preprocess import InputSpec
from fusion.streaming import StreamingFusionNet
from fusion.windowed import WindowedFusionNet
from tests.conftest import ROOT
from tests.fusion.tiny import randomise, tiny_config, tiny_inputs

CASES = [(shape, "none", (m,)) for shape in ("streaming", "windowed") for m in MODALITIES] + [
    (shape, fusion, subset) for shape in ("streaming", "windowed") for fusion in ("late", "mmtm")
    for subset in itertools.chain(itertools.combinations(MODALITIES, 2), [MODALITIES])]


@pytest.mark.parametrize("shape,fusion,modalities", CASES)
def test_shapes_no_nans_and_every_parameter_gets_a_gradient(shape, fusion, modalities):
    torch.manual_seed(0)
    config = tiny_config(shape=shape, fusion=fusion, modalities=modalities, mmtm_variant="official")
    model = build_model(config).train()
    assert isinstance(model, StreamingFusionNet if shape == "streaming" else WindowedFusionNet)
    out = model(tiny_inputs(config))
    assert isinstance(out, FusionOutput)
    assert out.logits.shape == (2, 5)
    assert set(out.streams) == set(modalities)
    assert all(l.shape == (2, 5) for l in out.streams.values())
    assert torch.isfinite(out.logits).all()
    (out.logits.sum() + sum(l.square().sum() for l in out.streams.values())).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
    assert len(model.mmtm) == (3 if fusion == "mmtm" else 0)


def test_prediction_is_the_average_of_the_stream_logits():
    config = tiny_config(mmtm_variant="official")
    model = randomise(build_model(config)).eval()
    out = model(tiny_inputs(config))
    assert torch.allclose(out.logits, torch.stack(list(out.streams.values())).mean(0), atol=1e-6)


@pytest.mark.parametrize("shape", ["streaming", "windowed"])
def test_paper_mmtm_network_equals_late_fusion_at_initialisation(shape):
    torch.manual_seed(0)
    late = randomise(build_model(tiny_config(shape=shape, fusion="late"))).eval()
    mmtm = build_model(tiny_config(shape=shape, fusion="mmtm", mmtm_variant="paper")).eval()
    missing, unexpected = mmtm.load_state_dict(late.state_dict(), strict=False)
    assert all(k.startswith("mmtm.") for k in missing) and not unexpected
    x = tiny_inputs(late.config)
    a, b = late(x), mmtm(x)
    assert torch.equal(a.logits, b.logits)
    # and MMTM matters once trained: random excitation changes the result
    randomise(mmtm.mmtm)
    assert not torch.allclose(mmtm(x).logits, a.logits, atol=1e-4)


@pytest.mark.parametrize("shape", ["streaming", "windowed"])
def test_missing_modality_is_fed_zeros_and_left_out_of_the_average(shape):
    config = tiny_config(shape=shape, mmtm_variant="official")
    model = randomise(build_model(config)).eval()
    x = tiny_inputs(config)
    without = {m: v for m, v in x.items() if m != "depth"}
    out = model(without)
    assert set(out.streams) == {"rgb", "skeleton"}
    assert torch.allclose(out.logits, (out.streams["rgb"] + out.streams["skeleton"]) / 2, atol=1e-6)
    zeros = dict(without, depth=torch.zeros_like(x["depth"]))
    full = model(zeros)
    for m in ("rgb", "skeleton"):  # the MMTM saw a zero depth map
        assert torch.allclose(out.streams[m], full.streams[m], atol=1e-6)
    # a per-sample mask: sample 0 has depth, sample 1 has not
    mask = {"depth": torch.tensor([1.0, 0.0])}
    mixed = model(x, mask)
    with_depth = model(x)
    assert torch.allclose(mixed.logits[0], with_depth.logits[0], atol=1e-5)
    assert torch.allclose(mixed.logits[1], out.logits[1], atol=1e-5)


def test_late_fusion_does_not_run_a_missing_stream():
    config = tiny_config(fusion="late")
    model = randomise(build_model(config)).eval()
    x = tiny_inputs(config, modalities=("skeleton", "rgb"))
    out = model(x)
    assert set(out.streams) == {"rgb", "skeleton"}
    assert torch.allclose(out.streams["rgb"], model.streams["rgb"](x["rgb"]), atol=1e-6)


def test_no_modality_at_all_is_an_error():
    model = build_model(tiny_config())
    with pytest.raises(ValueError, match="none of the model's modalities"):
        model({"audio": torch.zeros(1, 2)})


def test_any_joint_count():
    config = tiny_config(input=InputSpec(width=32, height=24, window=12, joints=33))
    for shape in ("streaming", "windowed"):
        model = build_model(config.replace(shape=shape)).eval()
        assert model(tiny_inputs(config.replace(shape=shape), batch=1)).logits.shape == (1, 5)


@pytest.mark.parametrize("bad", [dict(fusion="none"), dict(fusion="late", modalities=("rgb",)),
                                 dict(modalities=("rgb", "sound")), dict(shape="cubic"),
                                 dict(mmtm_stages=(7,)), dict(fusion="fancy")])
def test_bad_configs_are_refused(bad):
    with pytest.raises(ValueError):
        tiny_config(**bad)


def test_config_round_trips_through_a_dict():
    config = tiny_config(shape="windowed", modalities=("skeleton", "rgb"), fusion="late")
    assert config.modalities == ("rgb", "skeleton")  # canonical order
    assert ModelConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("shape", ["streaming", "windowed"])
def test_each_stream_exposes_features_by_stage_and_a_head(shape):
    config = tiny_config(shape=shape, fusion="late")
    model = build_model(config).eval()
    x = tiny_inputs(config, batch=2)
    for m, stream in model.streams.items():
        feats = stream.forward_features(x[m])
        assert len(feats) == len(stream.stages) == 4
        assert [f.shape[1] for f in feats] == list(stream.widths)
        if m != "skeleton":  # every stage halves H and W
            assert [f.shape[-2:] for f in feats] == [(12, 16), (6, 8), (3, 4), (2, 2)]
        else:
            assert all(f.shape[-1] == 21 for f in feats)
        assert torch.equal(stream.forward_head(feats[-1], 2), stream(x[m]))
        assert torch.equal(stream(x[m]), model(x).streams[m])


def test_mmtm_placements_are_typed_and_keep_the_checkpoints_names():
    config = tiny_config(mmtm_stages=(1, 3), mmtm_pooled=True, mmtm_temporal=(0,))
    places = config.mmtm_placements
    assert places == (MMTMPlacement.stage(1), MMTMPlacement.stage(3), MMTMPlacement.pooled(),
                      MMTMPlacement.temporal(0))
    assert [p.site for p in places] == [Site.STAGE, Site.STAGE, Site.POOLED, Site.TEMPORAL]
    assert list(build_model(config).mmtm) == [p.key for p in places] == ["1", "3", "pooled", "temporal0"]
    assert tiny_config(fusion="late", mmtm_pooled=True).mmtm_placements == ()
    for path in ("assets/model_default.pt", "assets/model_skeleton.pt"):  # the shipped files' MMTM names
        meta, state = read_checkpoint(ROOT / path)
        assert {k.split(".")[1] for k in state if k.startswith("mmtm.")} == {p.key for p in meta.config.mmtm_placements}
