"""Checkpoint metadata and weights are checked before a model is built (issue #18, item 4).

Each case was a traceback (or non-finite scores) before: now one BadInput line, raised before
``build_model`` allocates anything.
"""

import json

import pytest
import torch

import fusion.checkpoint as checkpoint
from fusion.build import build_model
from fusion.checkpoint import load_checkpoint, save_checkpoint
from fusion.errors import BadInput
from fusion.model_config import MAX_FOOTPRINT_BYTES, ModelConfig
from fusion.preprocess import InputSpec
from tests.fusion.tiny import tiny_config

LABELS = ("no_gesture", "fist", "swipe_left", "swipe_right", "push")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A real tiny checkpoint: its raw payload and its metadata as a dict."""
    path = tmp_path_factory.mktemp("ckpt") / "good.pt"
    save_checkpoint(path, build_model(tiny_config()), labels=LABELS)
    raw = torch.load(path, weights_only=True)
    return raw, json.loads(raw["metadata"])


def write(tmp_path, raw, *, meta=None, state=None, name="bad.pt"):
    text = meta if isinstance(meta, str) or meta is None else json.dumps(meta)
    payload = dict(raw, metadata=text if text is not None else raw["metadata"], state_dict=state or raw["state_dict"])
    torch.save(payload, tmp_path / name)
    return tmp_path / name


def edited(meta, where, value):
    out = json.loads(json.dumps(meta))
    table = out
    for key in where[:-1]:
        table = table[key]
    table[where[-1]] = value
    return out


@pytest.mark.parametrize("where, value, message", [
    (("model", "mmtm_ratio"), 0, "mmtm_ratio must be finite, at least 0.001"),  # was ValueError in MMTM
    (("model", "mmtm_ratio"), 5e-324, "mmtm_ratio"),  # would have been an OverflowError in the size estimate
    (("model", "mmtm_ratio"), float("nan"), "mmtm_ratio"),
    (("model", "mmtm_ratio"), 10**400, "mmtm_ratio must be finite"),  # was OverflowError (found by fuzzing)
    (("model", "input", "rgb_mean"), [10**400, 0, 0], "int too large"),  # was OverflowError in float()
    (("model", "input", "window"), -3, "window must be from 1 to 1024, got -3"),  # was ValueError in TemporalHead
    (("labels",), ["fist"] * 5, "labels must be distinct"),  # was accepted
    (("labels",), ["no_gesture", "fist", "Swipe Left", "swipe_right", "push"], "snake_case"),
    (("labels",), [0, 1, 2, 3, 4], "labels must be a list of strings"),  # was str()-ed into "0".."4"
    (("labels",), "fist", "labels must be a list of strings"),
    (("model", "input", "width"), 100_000, "width must be from 8 to 4096"),  # allocated tens of GB
    (("model", "input", "rgb_std"), [0.0, 0.0, 0.0], "rgb_std must be finite, at least 0.0001"),  # inf scores
    (("model", "input", "rgb_mean"), [0.5, float("nan"), 0.5], "rgb_mean"),
    (("model", "input", "rgb_mean"), [0.5, 0.5], "rgb_mean must be 3 numbers"),
    (("model", "input", "depth_far_m"), 0.2, "depth_far_m must be finite, more than 0.2"),  # 0/0 in depth
    (("model", "input", "fps"), "fast", "fps must be a number"),
    (("model", "input", "joints"), 0, "joints must be from 1"),
    (("model", "input", "mirror"), "yes", "mirror must be true or false"),
    (("model", "video_widths"), "abcd", "video_widths must be a list"),  # was TypeError in a format string
    (("model", "video_widths"), [4.5, 8, 8, 8], "each of video_widths must be an integer"),
    (("model", "video_widths"), [True, 8, 8, 8], "each of video_widths must be an integer"),
    (("model", "num_classes"), 1e9, "num_classes must be an integer"),
    (("model", "mmtm_variant"), "x", "mmtm_variant must be one of"),  # was ValueError in MMTM
    (("model", "temporal_kernel"), 0, "temporal_kernel must be from 1"),
    (("model", "temporal_dilations"), [0, 2], "temporal_dilations must be from 1"),
    (("model", "temporal_dilations"), [200, 200], "receptive field"),  # was ValueError in TemporalHead
    (("model", "dropout"), 1.5, "dropout"),
    (("model", "mmtm_stages"), [1, 1], "must not repeat"),
    (("model", "input"), None, "input spec"),
    (("training",), ["a"], "training must be an object"),
    (("training",), {"online": {"ema_tau_s": float("nan")}}, "training.online.ema_tau_s must be finite"),
    (("training",), {"online": {"start_threshold": "high"}}, "bad checkpoint metadata"),  # was TypeError at run time
])
def test_bad_metadata_is_one_line_before_the_model_is_built(tmp_path, saved, monkeypatch, where, value, message):
    raw, meta = saved
    monkeypatch.setattr(checkpoint, "build_model", lambda config: pytest.fail("built a model from bad metadata"))
    path = write(tmp_path, raw, meta=edited(meta, where, value))
    with pytest.raises(BadInput) as caught:
        load_checkpoint(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_an_enormous_model_is_refused_by_its_estimated_size(tmp_path, saved, monkeypatch):
    """Each size within its bounds, together 43 GB and more: refused before anything is allocated."""
    raw, meta = saved
    monkeypatch.setattr(checkpoint, "build_model", lambda config: pytest.fail("built a model from bad metadata"))
    huge = edited(edited(edited(meta, ("model", "input", "width"), 4096), ("model", "input", "height"), 4096),
                  ("model", "input", "window"), 512)
    with pytest.raises(BadInput, match=r"would take about [\d.]+ GiB .* at most 4 GiB"):
        load_checkpoint(write(tmp_path, raw, meta=huge))
    wide = edited(edited(meta, ("model", "video_widths"), [2048] * 4), ("model", "skeleton_widths"), [2048] * 4)
    with pytest.raises(BadInput, match="GiB"):
        load_checkpoint(write(tmp_path, raw, meta=wide))


def test_the_size_estimate_bounds_real_models_and_admits_the_shipped_ones():
    assert ModelConfig().footprint_bytes() < 200 * 2**20
    big = ModelConfig(input=InputSpec(width=224, height=224, window=32), video_widths=(64, 128, 256, 512),
                      skeleton_widths=(64, 128, 256, 512))
    assert big.footprint_bytes() < MAX_FOOTPRINT_BYTES
    model = build_model(tiny_config())  # the estimate is an upper bound of the weights
    assert tiny_config().footprint_bytes() > 4 * sum(p.numel() for p in model.parameters())
    for path in ("assets/model_default.pt", "assets/model_skeleton.pt"):
        load_checkpoint(path)


def test_deeply_nested_metadata_is_one_line(tmp_path, saved):
    raw, _ = saved
    with pytest.raises(BadInput, match="bad checkpoint metadata .*recursion"):  # was RecursionError
        load_checkpoint(write(tmp_path, raw, meta="[" * 100_000 + "]" * 100_000))
    for text in ("[]", '"x"', "null", '{"labels": []}', '{"model": 3}'):
        with pytest.raises(BadInput, match="bad checkpoint metadata"):
            load_checkpoint(write(tmp_path, raw, meta=text))


def _first_float(state, suffix=".weight"):
    return next(k for k, v in state.items() if k.endswith(suffix) and v.is_floating_point())


@pytest.mark.parametrize("change, message", [
    (lambda t: t.fill_(float("nan")), "holds NaN or infinite values"),  # was: NaN scores
    (lambda t: t.view(-1)[0].fill_(float("inf")), "holds NaN or infinite values"),
    (lambda t: t.view(-1)[0].fill_(3e38), "beyond any trained weight"),  # a flipped exponent bit: inf scores
])
def test_damaged_weights_are_refused(tmp_path, saved, change, message):
    raw, _ = saved
    state = {k: v.clone() for k, v in raw["state_dict"].items()}
    change(state[_first_float(state)])
    with pytest.raises(BadInput, match=f"damaged weights .*{message}"):
        load_checkpoint(write(tmp_path, raw, state=state))


def test_a_negative_batch_norm_variance_and_foreign_tensors_are_refused(tmp_path, saved):
    raw, _ = saved
    state = {k: v.clone() for k, v in raw["state_dict"].items()}
    state[_first_float(state, "running_var")].fill_(-1.0)  # sqrt of a negative: NaN scores
    with pytest.raises(BadInput, match="negative variance"):
        load_checkpoint(write(tmp_path, raw, state=state))
    state = {k: v.clone() for k, v in raw["state_dict"].items()}
    key = _first_float(state)
    state[key] = state[key].to(torch.complex64)  # was loaded, the imaginary part silently dropped
    with pytest.raises(BadInput, match="complex"):
        load_checkpoint(write(tmp_path, raw, state=state))


def test_finite_weights_that_overflow_are_refused_by_the_runner(tmp_path):
    """Weights within bounds can still give inf scores: the runner's warm-up refuses the model."""
    from app.model_runner import ModelRunner, RunnerConfig

    model = build_model(tiny_config(fusion="late"))
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.fill_(1e5)
    save_checkpoint(tmp_path / "loud.pt", model, labels=LABELS)
    load_checkpoint(tmp_path / "loud.pt")  # every weight is finite and bounded ...
    with pytest.raises(BadInput, match="NaN or infinite scores on a blank input"):  # ... but the scores are not
        ModelRunner.load(RunnerConfig(model=str(tmp_path / "loud.pt"), device="cpu", backend="eager", warmup=1))
