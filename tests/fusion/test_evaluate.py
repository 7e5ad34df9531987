"""Evaluation: the CLI trains and evaluates on a tiny on-disk dataset; JSON fields; per-stream results; bad input."""

import json

import numpy as np
import pytest
import torch

from fusion.build import build_model
from fusion.checkpoint import read_checkpoint
from fusion.data.model_inputs import prepare_frames
from fusion.evaluate import stream_scores
from main import main
from tests.fusion.train_data import TINY, write_tiny_dataset

TINY_ARGS = ["--size", "32x24", "--window", "16", "--video-widths", "4,8,8,8", "--skeleton-widths", "8,8,8,8",
             "--temporal-channels", "8", "--batch", "4", "--threads", "1", "--quiet"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny") / "data")


def _last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_train_then_eval_json(dataset, tmp_path, capsys):
    uni = {}
    for m in ("rgb", "skeleton"):
        uni[m] = tmp_path / f"{m}.pt"
        assert main(["train", "--data", str(dataset), "--out", str(uni[m]), "--modalities", m, "--epochs", "1",
                     *TINY_ARGS]) == 0
    meta, _ = read_checkpoint(uni["skeleton"])
    assert meta.training["data"]["sets"][0]["seed"] == 3 and "main.py" in meta.training["command"]
    assert (tmp_path / "skeleton.curves.png").is_file()
    late = tmp_path / "late.pt"
    assert main(["train", "--data", str(dataset), "--out", str(late), "--fusion", "late", "--modalities",
                 "rgb,skeleton", "--epochs", "0", "--init", f"rgb={uni['rgb']},skeleton={uni['skeleton']}",
                 *TINY_ARGS]) == 0
    capsys.readouterr()
    png = tmp_path / "cm.png"
    assert main(["eval", "--data", str(dataset), "--model", str(late), "--json", "--confusion", str(png),
                 "--threads", "1"]) == 0
    report = _last_json(capsys.readouterr().out)
    assert 0.0 <= report["top1"] <= 1.0
    assert len(report["clip_correct"]) == report["clips"]  # per clip, for paired comparisons
    assert round(sum(report["clip_correct"]) / report["clips"], 4) == report["top1"]
    assert set(report["per_class"]) <= {"no_gesture", "fist", "swipe_left"} and report["per_class"]
    assert set(report["per_stream"]) == {"rgb", "skeleton"}
    online = report["online"]
    for key in ("levenshtein", "false_triggers_per_hour", "delay_ms_p50", "delay_ms_p95"):
        assert key in online
    assert online["n_true"] == 2 and 0.0 <= online["levenshtein"] <= 1.0
    assert png.stat().st_size > 1000
    # the model without its rgb input (a source without a colour camera) still evaluates
    assert main(["eval", "--data", str(dataset), "--model", str(late), "--modalities", "skeleton", "--json",
                 "--threads", "1"]) == 0
    report = _last_json(capsys.readouterr().out)
    assert report["modalities"] == ["skeleton"] and "per_stream" not in report
    # a dataset of continuous streams only is evaluated online only
    streams_only = write_tiny_dataset(tmp_path / "streams", clips=0, streams=1)
    assert main(["eval", "--data", str(streams_only), "--model", str(late), "--json", "--threads", "1"]) == 0
    report = _last_json(capsys.readouterr().out)
    assert report["clips"] == 0 and report["top1"] is None and report["clip_correct"] == []
    assert report["online"]["n_true"] == 2 and 0.0 <= report["online"]["levenshtein"] <= 1.0
    assert main(["eval", "--data", str(streams_only), "--model", str(late), "--threads", "1"]) == 0
    assert "offline: no isolated clips" in capsys.readouterr().out
    assert main(["eval", "--data", str(streams_only), "--model", str(late), "--confusion", str(png)]) == 2
    assert "streams only" in capsys.readouterr().err
    # recogniser settings for this run (--online)
    assert main(["eval", "--data", str(streams_only), "--model", str(late), "--json", "--threads", "1",
                 "--online", "cooldown_s=0.25"]) == 0
    assert _last_json(capsys.readouterr().out)["online_config"]["cooldown_s"] == 0.25
    assert main(["eval", "--data", str(streams_only), "--model", str(late), "--online", "cooldown_s=-1"]) == 2
    assert capsys.readouterr().err.count("cooldown_s must be >= 0") == 1


def test_streaming_scores_equal_for_batched_and_single_streams(dataset):
    from fusion.data.synthetic.dataset_files import SyntheticDataset
    from fusion.model_config import ModelConfig
    from fusion.preprocess import InputSpec

    torch.manual_seed(0)
    cfg = ModelConfig(modalities=("skeleton",), fusion="none", input=InputSpec(width=32, height=24, window=16),
                      skeleton_widths=TINY.skeleton_widths, temporal_channels=8, num_classes=3)
    model = build_model(cfg).eval()
    s = SyntheticDataset(dataset).stream(0)
    rgb, depth, skel = prepare_frames(s.rgb, s.depth, s.depth_scale, s.skeleton, s.presence, s.handedness, cfg.input)
    full = {"rgb": rgb, "depth": depth, "skeleton": skel}
    short = {k: v[:40] for k, v in full.items()}
    both = stream_scores(model, [full, short], cfg.input, ("skeleton",))
    alone = stream_scores(model, [short], cfg.input, ("skeleton",))
    assert both[0][0].shape == (len(skel), 3) and both[1][0].shape == (40, 3)
    np.testing.assert_allclose(both[1][0], alone[0][0], atol=1e-5)
    windowed = build_model(cfg.replace(shape="windowed")).eval()
    logits, idx = stream_scores(windowed, [short], cfg.input, ("skeleton",), stride=4)[0]
    assert idx.tolist() == list(range(15, 40, 4)) and logits.shape == (len(idx), 3)


def test_eval_bad_input_exit_2(dataset, tmp_path, capsys):
    assert main(["eval", "--data", str(dataset), "--model", str(tmp_path / "none.pt")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x80\x04garbage")
    assert main(["eval", "--data", str(dataset), "--model", str(bad)]) == 2
    assert main(["eval", "--data", str(tmp_path / "missing"), "--model", str(bad)]) == 2


def test_prepare_frames_reads_the_stream_files_handedness_array():
    rng = np.random.default_rng(0)
    from fusion.preprocess import InputSpec

    spec = InputSpec(width=32, height=24, window=16, handedness=True)  # a model that reads handedness
    rgb = rng.integers(0, 255, (2, 24, 32, 3), dtype=np.uint8)
    depth = rng.integers(0, 2000, (2, 24, 32)).astype(np.uint16)
    skel = rng.random((2, 21, 3)).astype(np.float32)
    present = np.array([True, True])
    plain = prepare_frames(rgb, depth, 0.001, skel, present, "Right", spec)[2]
    boxed = prepare_frames(rgb, depth, 0.001, skel, present, "['Right']", spec)[2]
    np.testing.assert_array_equal(plain, boxed)
    assert float(plain[0, 6, 0]) == -1.0  # the mirrored view turns the camera's Right hand into the user's left


def test_eval_takes_the_models_stored_online_settings():
    from fusion.checkpoint import CheckpointMeta
    from fusion.errors import BadInput
    from fusion.evaluate import online_config_of
    from tests.fusion.tiny import tiny_config

    cfg = tiny_config(modalities=("skeleton",), fusion="none", num_classes=17)
    plain = online_config_of(CheckpointMeta(config=cfg))
    tuned = online_config_of(CheckpointMeta(config=cfg, training={"online": {"start_threshold": 0.7, "cooldown_s": 1.5}}))
    assert plain.from_logits and plain.start_threshold == 0.5
    assert tuned.from_logits and tuned.start_threshold == 0.7 and tuned.cooldown_s == 1.5
    with pytest.raises(BadInput):
        online_config_of(CheckpointMeta(config=cfg, training={"online": {"start_threshold": 2.0}}))
