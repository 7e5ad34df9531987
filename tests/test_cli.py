import argparse
import subprocess
import sys

import main
from app import model_commands
from fusion.model_config import ModelConfig
from fusion.preprocess import InputSpec
from fusion.train_config import TRAIN_MODEL, TrainConfig
from tests.conftest import ROOT


def test_help_lists_every_command(capsys):
    parser = main.build_parser()
    text = parser.format_help()
    for command in ("demo", "replay", "record", "train", "eval", "export", "bench", "model-info"):
        assert command in text


def test_unknown_command_is_usage_error():
    result = subprocess.run([sys.executable, "main.py", "nonsense"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


# the flags that scripts/train_default.sh, docs/training.md and the README use
TRAIN_FLAGS = ("--data", "--out", "--fusion", "--modalities", "--shape", "--epochs", "--batch", "--lr", "--init",
               "--resume", "--finetune", "--seed", "--modality-dropout", "--aux-loss", "--threads", "--device",
               "--size", "--window", "--video-widths", "--skeleton-widths", "--temporal-channels", "--rgb-input",
               "--mmtm-stages", "--mmtm-temporal", "--mmtm-pooled", "--no-augment", "--max-steps", "--quiet", "--real",
               "--readings")


def _flags(command: str) -> set[str]:
    parser = main.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return {flag for action in sub._actions for flag in action.option_strings}


def test_every_train_flag_is_still_there_and_model_info_shares_the_architecture_flags():
    assert set(TRAIN_FLAGS) <= _flags("train")
    architecture = {"--shape", "--modalities", "--fusion", "--mmtm-stages", "--mmtm-temporal", "--mmtm-pooled",
                    "--video-widths", "--skeleton-widths", "--temporal-channels", "--rgb-input", "--size", "--window"}
    assert architecture <= _flags("model-info") and architecture <= _flags("train")
    for command in ("demo", "replay", "bench"):
        assert {"--model", "--device", "--backend"} <= _flags(command)


def test_train_flags_build_the_train_config_and_its_model():
    argv = ["train", "--data", "D", "--out", "o.pt", "--shape", "streaming", "--size", "96x72", "--window", "24",
            "--fusion", "mmtm", "--modalities", "skeleton,rgb", "--epochs", "3", "--batch", "8", "--lr", "1e-3",
            "--seed", "2", "--modality-dropout", "0.25", "--aux-loss", "0", "--threads", "1", "--device", "cpu",
            "--init", "rgb=r.pt,skeleton=s.pt", "--mmtm-stages", "", "--mmtm-temporal", "0,1", "--mmtm-pooled",
            "--video-widths", "8,8,16,16", "--skeleton-widths", "8,8,16,16", "--temporal-channels", "32",
            "--rgb-input", "motion", "--no-augment", "--max-steps", "7", "--quiet"]
    config = model_commands.train_config(main.build_parser().parse_args(argv))
    assert config.model == ModelConfig(
        shape="streaming", modalities=("rgb", "skeleton"), fusion="mmtm", mmtm_stages=(), mmtm_temporal=(0, 1),
        mmtm_pooled=True, video_widths=(8, 8, 16, 16), skeleton_widths=(8, 8, 16, 16), temporal_channels=32,
        rgb_input="motion", input=InputSpec(width=96, height=72, window=24))
    assert config == TrainConfig(data="D", out="o.pt", model=config.model, epochs=3, batch=8, lr=1e-3, seed=2,
                                 modality_dropout=0.25, aux_loss=0.0, threads=1, device="cpu",
                                 init=(("rgb", "r.pt"), ("skeleton", "s.pt")), augment=None, progress=False,
                                 max_steps_per_epoch=7, command=config.command)


def test_without_options_train_and_model_info_take_the_configs_defaults():
    config = model_commands.train_config(main.build_parser().parse_args(["train", "--data", "D", "--out", "o.pt"]))
    assert config == TrainConfig(data="D", out="o.pt", command=config.command)
    assert config.model == TRAIN_MODEL and config.model.input == InputSpec(width=64, height=48, window=20)
    args = main.build_parser().parse_args(["model-info"])
    assert model_commands.model_config(args, ModelConfig()) == ModelConfig()


def test_bad_architecture_flags_exit_2_with_one_line(capsys):
    assert main.main(["model-info", "--modalities", "rgb,sonar"]) == 2
    assert capsys.readouterr().err.strip() == "mmtm-live: --modalities takes names from rgb,depth,skeleton, got sonar"
    assert main.main(["model-info", "--fusion", "none"]) == 2
    assert "fusion 'none' is one stream" in capsys.readouterr().err
    assert main.main(["model-info", "--size", "64"]) == 2
    assert "--size wants WxH" in capsys.readouterr().err
