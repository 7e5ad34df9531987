import json

import pytest

import main
from fusion.build import build_model
from fusion.checkpoint import save_checkpoint
from fusion.model_info import ModelInfoConfig, format_info, model_info, run_model_info
from tests.fusion.tiny import tiny_config


@pytest.mark.parametrize("shape", ["streaming", "windowed"])
def test_parts_add_up_and_mmtm_is_visible(shape):
    mmtm = model_info(build_model(tiny_config(shape=shape)))
    late = model_info(build_model(tiny_config(shape=shape, fusion="late")))
    assert set(mmtm["params"]) == {"rgb", "depth", "skeleton", "mmtm.1", "mmtm.2", "mmtm.3", "total"}
    assert set(late["params"]) == {"rgb", "depth", "skeleton", "total"}
    for info in (mmtm, late):
        parts = [k for k in info["params"] if k != "total"]
        assert sum(info["params"][k] for k in parts) == info["params"]["total"]
        assert sum(info["flops"][k] for k in parts) == info["flops"]["total"]
        assert all(info["flops"][k] > 0 for k in parts)
    # the streams cost the same with or without MMTM; MMTM's own cost is the difference
    for m in ("rgb", "depth", "skeleton"):
        assert mmtm["flops"][m] == late["flops"][m]
        assert mmtm["params"][m] == late["params"][m]
    extra = sum(mmtm["flops"][f"mmtm.{s}"] for s in (1, 2, 3))
    assert mmtm["flops"]["total"] - late["flops"]["total"] == extra
    assert 0 < mmtm["mmtm_flops_share"] < 1
    text = format_info(mmtm)
    assert "mmtm.2" in text and "MMTM share" in text
    if shape == "streaming":
        assert mmtm["window_forward_flops"] > 5 * mmtm["flops"]["total"]


def test_temporal_mmtms_are_counted_and_the_table_stays_aligned():
    info = model_info(build_model(tiny_config(mmtm_stages=(), mmtm_temporal=(0, 1))))
    late = model_info(build_model(tiny_config(fusion="late")))
    assert set(info["params"]) == {"rgb", "depth", "skeleton", "mmtm.temporal0", "mmtm.temporal1", "total"}
    extra = info["flops"]["mmtm.temporal0"] + info["flops"]["mmtm.temporal1"]
    assert extra > 0 and info["flops"]["total"] - late["flops"]["total"] == extra
    rows = format_info(info).splitlines()[2:-2]  # header, the parts and total
    assert len({len(row) for row in rows}) == 1  # right-aligned numbers: one right edge for every row


def test_model_info_reads_a_checkpoint(tmp_path):
    save_checkpoint(tmp_path / "m.pt", build_model(tiny_config(fusion="none", modalities=("skeleton",))),
                    labels=("a", "b", "c", "d", "e"))
    info = json.loads(run_model_info(ModelInfoConfig(model=str(tmp_path / "m.pt"), json=True)))
    assert info["modalities"] == ["skeleton"] and info["fusion"] == "none"
    assert set(info["params"]) == {"skeleton", "total"}


def test_model_info_command_prints_json_for_the_default_model(capsys):
    assert main.main(["model-info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert info["shape"] == "streaming" and info["fusion"] == "mmtm"
    assert info["modalities"] == ["rgb", "depth", "skeleton"]
    assert info["input"] == {"width": 128, "height": 96, "window": 32, "joints": 21}
    assert info["mmtm_flops_share"] < 0.05
    assert main.main(["model-info", "--fusion", "none"]) == 2
    assert "fusion 'none' is one stream" in capsys.readouterr().err


def test_model_info_command_builds_the_model_of_the_architecture_flags(capsys):
    assert main.main(["model-info", "--json", "--shape", "windowed", "--modalities", "depth,skeleton", "--size",
                      "32x24", "--window", "16", "--video-widths", "4,8,8,8", "--skeleton-widths", "8,8,8,8",
                      "--mmtm-stages", "", "--mmtm-pooled"]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert info["shape"] == "windowed" and info["modalities"] == ["depth", "skeleton"]
    assert info["input"] == {"width": 32, "height": 24, "window": 16, "joints": 21}
    assert set(info["params"]) == {"depth", "skeleton", "mmtm.pooled", "total"}
