import pytest
import torch

from fusion.build import build_model
from tests.fusion.tiny import randomise, tiny_config, tiny_inputs


def _model(**changes):
    torch.manual_seed(0)
    return randomise(build_model(tiny_config(mmtm_variant="official", **changes))).eval()


def _frame(x, t):
    return {m: v[:, :, t] for m, v in x.items()}


@pytest.mark.parametrize("fusion,modalities,mmtm", [
    ("mmtm", ("rgb", "depth", "skeleton"), {}), ("late", ("rgb", "skeleton"), {}), ("none", ("depth",), {}),
    ("mmtm", ("rgb", "depth", "skeleton"), {"mmtm_pooled": True}),
    ("mmtm", ("depth", "skeleton"), {"mmtm_pooled": True, "mmtm_stages": ()}),
    ("mmtm", ("rgb", "depth", "skeleton"), {"mmtm_temporal": (0, 1)}),
    ("mmtm", ("rgb", "depth"), {"mmtm_temporal": (1,), "mmtm_stages": ()})])
def test_step_equals_forward_over_the_last_window(fusion, modalities, mmtm):
    model = _model(fusion=fusion, modalities=modalities, **mmtm)
    window, rf = model.window, model.receptive_field
    assert (window, rf) == (12, 7)
    x = tiny_inputs(model.config, frames=window + 9)
    checked = 0
    with torch.inference_mode():
        for t in range(window + 9):
            out = model.step(_frame(x, t))
            if t + 1 >= rf:  # from R frames on: forward over the last min(t+1, T) frames
                lo = max(0, t + 1 - window)
                ref = model({m: v[:, :, lo:t + 1] for m, v in x.items()})
                assert torch.allclose(out.logits, ref.logits, atol=1e-4, rtol=0), t
                for m in modalities:
                    assert torch.allclose(out.streams[m], ref.streams[m], atol=1e-4, rtol=0)
                checked += 1
    assert checked == window + 9 - rf + 1
    assert model.frames_seen == window + 9


@pytest.mark.parametrize("mmtm", [{}, {"mmtm_pooled": True}, {"mmtm_temporal": (0,)}])
def test_step_with_a_missing_modality_equals_forward_without_it(mmtm):
    model = _model(**mmtm)
    x = tiny_inputs(model.config, frames=model.window + 3, modalities=("rgb", "skeleton"))
    with torch.inference_mode():
        for t in range(model.window + 3):
            out = model.step(_frame(x, t))
        ref = model({m: v[:, :, -model.window:] for m, v in x.items()})
    assert set(out.streams) == {"rgb", "skeleton"}
    assert torch.allclose(out.logits, ref.logits, atol=1e-4, rtol=0)


def test_reset_forgets_the_past_and_a_batch_change_needs_it():
    model = _model()
    x = tiny_inputs(model.config, frames=model.window)
    y = tiny_inputs(model.config, frames=model.window, seed=5)
    with torch.inference_mode():
        for t in range(model.window):
            model.step(_frame(y, t))
        model.reset()
        assert model.frames_seen == 0
        for t in range(model.window):
            out = model.step(_frame(x, t))
        assert torch.allclose(out.logits, model(x).logits, atol=1e-4, rtol=0)
        with pytest.raises(ValueError, match="batch changed"):
            model.step({m: v[:1] for m, v in _frame(x, 0).items()})


def test_functional_step_threads_explicit_state():
    model = _model()
    x = tiny_inputs(model.config, frames=model.window, batch=1)
    state = model.initial_state(1)
    present = torch.ones(1, 3)
    with torch.inference_mode():
        for t in range(model.window):
            frames = [x[m][:, :, t] for m in model.modalities]
            logits, streams, state = model.step_functional(frames, present, state)
        ref = model(x)
    assert len(streams) == 3
    assert state[-1].item() == model.window
    assert torch.allclose(logits, ref.logits, atol=1e-4, rtol=0)


def test_temporal_receptive_field_must_fit_the_window():
    with pytest.raises(ValueError, match="receptive field"):
        build_model(tiny_config(temporal_dilations=(4, 8)))


@pytest.mark.parametrize("rgb_input", ["motion", "frames+motion"])
def test_rgb_differences_step_equals_forward_over_the_window_and_the_frame_before(rgb_input):
    model = _model(rgb_input=rgb_input)
    assert model.lead_frames == 1 and model.streams["rgb"].stages[0].down[0].in_channels == (3 if rgb_input == "motion" else 6)
    n = model.window + 5
    x = tiny_inputs(model.config, frames=n)
    with torch.inference_mode():
        for t in range(n):
            out = model.step(_frame(x, t))
            if t == model.window - 1:  # T frames seen: the first is its own reference (repeated in front)
                first = {m: torch.cat([v[:, :, :1], v[:, :, :t + 1]], dim=2) for m, v in x.items()}
                assert torch.allclose(out.logits, model(first).logits, atol=1e-4, rtol=0)
        ref = model({m: v[:, :, -model.window - 1:] for m, v in x.items()})  # T frames and the one before
        assert torch.allclose(out.logits, ref.logits, atol=1e-4, rtol=0)
        # the frame before the window is what the first difference is taken from
        other = dict(x)
        other["rgb"] = x["rgb"].clone()
        other["rgb"][:, :, -model.window - 1] += 1.0
        moved = model({m: v[:, :, -model.window - 1:] for m, v in other.items()})
        assert not torch.allclose(moved.logits, ref.logits, atol=1e-3)
        # the other streams skip it
        other = {m: v.clone() for m, v in x.items()}
        other["depth"][:, :, -model.window - 1] += 1.0
        other["skeleton"][:, :, -model.window - 1] += 1.0
        assert torch.equal(model({m: v[:, :, -model.window - 1:] for m, v in other.items()}).logits, ref.logits)
    with pytest.raises(ValueError, match="frame before the window"):
        model({m: v[:, :, :1] for m, v in x.items()})


def test_late_fusion_with_rgb_differences_runs_without_rgb():
    model = _model(fusion="late", modalities=("rgb", "skeleton"), rgb_input="motion")
    x = tiny_inputs(model.config, frames=model.window + 1, modalities=("skeleton",))
    with torch.inference_mode():
        out = model(x)
        for t in range(model.window + 1):
            stepped = model.step(_frame(x, t))
    assert set(out.streams) == {"skeleton"}
    assert torch.allclose(stepped.logits, out.logits, atol=1e-4, rtol=0)


def test_rgb_differences_need_the_streaming_shape_and_the_rgb_stream():
    with pytest.raises(ValueError, match="streaming shape"):
        tiny_config(shape="windowed", rgb_input="motion")
    with pytest.raises(ValueError, match="rgb_input must be one of"):
        tiny_config(rgb_input="flow")
    assert tiny_config(rgb_input="motion", modalities=("depth", "skeleton")).lead_frames == 0
    assert tiny_config().lead_frames == 0
    config = tiny_config(rgb_input="frames+motion")
    assert type(config).from_dict(config.to_dict()) == config
    old = config.to_dict()
    del old["rgb_input"]  # a checkpoint written before the option
    assert type(config).from_dict(old).rgb_input == "frames"


def test_the_pooled_mmtm_gates_the_window_level_features():
    model = _model(mmtm_pooled=True)
    x = tiny_inputs(model.config)
    with torch.inference_mode():
        fused = model(x)
        del model.mmtm["pooled"]  # the same network without it
        plain = model(x)
    for m in model.modalities:
        assert not torch.allclose(fused.streams[m], plain.streams[m], atol=1e-3)


def test_the_temporal_mmtms_recalibrate_each_stream_from_the_others():
    model = _model(mmtm_temporal=(0, 1), mmtm_stages=())
    assert sorted(model.mmtm) == ["temporal0", "temporal1"]
    x = tiny_inputs(model.config)
    with torch.inference_mode():
        fused = model(x)
        changed = dict(x, depth=x["depth"].clone())
        changed["depth"][:, :, -1] += 1.0  # the newest depth frame only
        moved = model(changed)
        model.mmtm.clear()  # the same streams, no MMTM anywhere
        unfused = model(x)
    for m in model.modalities:
        assert not torch.allclose(fused.streams[m], unfused.streams[m], atol=1e-3)
    # the rgb stream hears of a change in the depth stream only through the temporal MMTMs
    assert not torch.allclose(moved.streams["rgb"], fused.streams["rgb"], atol=1e-4)


def test_temporal_mmtm_placement_is_checked_and_stored():
    with pytest.raises(ValueError, match="mmtm_temporal must lie in 0..1"):
        tiny_config(mmtm_temporal=(2,))
    with pytest.raises(ValueError, match="streaming shape"):
        tiny_config(shape="windowed", mmtm_temporal=(0,))
    assert tiny_config(fusion="mmtm", mmtm_stages=(), mmtm_temporal=(1,)).mmtm_temporal == (1,)
    config = tiny_config(mmtm_temporal=(0, 1))
    assert type(config).from_dict(config.to_dict()) == config
    old = config.to_dict()
    del old["mmtm_temporal"]  # a checkpoint written before the option
    assert type(config).from_dict(old).mmtm_temporal == ()
