import pytest
import torch

from fusion.model_config import build_model
from tests.fusion.tiny import randomise, tiny_config, tiny_inputs


def _model(**changes):
    torch.manual_seed(0)
    return randomise(build_model(tiny_config(mmtm_variant="official", **changes))).eval()


def _frame(x, t):
    return {m: v[:, :, t] for m, v in x.items()}


@pytest.mark.parametrize("fusion,modalities", [("mmtm", ("rgb", "depth", "skeleton")), ("late", ("rgb", "skeleton")),
                                               ("none", ("depth",))])
def test_step_equals_forward_over_the_last_window(fusion, modalities):
    model = _model(fusion=fusion, modalities=modalities)
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


def test_step_with_a_missing_modality_equals_forward_without_it():
    model = _model()
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
