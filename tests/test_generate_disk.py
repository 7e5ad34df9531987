"""generate says how much it will write and how much is free, and refuses what cannot fit."""

import json
import shutil
from collections import namedtuple

import main
from app import model_commands
from fusion.data.synthetic.world import SynthConfig

SMALL = ["--size", "40x30", "--frames", "8", "--stream-gestures", "2", "--workers", "1", "--json"]


def test_generate_prints_its_estimate_and_the_estimate_bounds_what_it_writes(tmp_path, capsys):
    out = tmp_path / "d"
    assert main.main(["generate", "--clips", "4", "--streams", "2", "--out", str(out), *SMALL]) == 0
    captured = capsys.readouterr()
    written = json.loads(captured.out.strip().splitlines()[-1])["bytes"]
    notes = [line for line in captured.err.replace("\r", "\n").splitlines() if line.startswith("generate: about")]
    assert len(notes) == 1 and f"to write to {out}" in notes[0] and "GB free there" in notes[0]
    estimate = model_commands.dataset_bytes(SynthConfig(width=40, height=30, frames=8, stream_gestures=2), 4, 2)
    assert written <= estimate <= 1.6 * written  # an upper bound, not a wild one


def test_the_default_dataset_is_estimated_at_its_measured_size():
    # docs/BENCHMARKS.md: the 2,000-clip set (32 frames, 160x120) wrote 6.2 GB
    assert 6.1e9 < model_commands.dataset_bytes(SynthConfig(), 2000, 0) < 6.3e9
    # a skeleton-only world has no images: scripts/train_default.sh's 6,800 clips and 120 streams wrote 107 MB
    assert 0.107e9 < model_commands.dataset_bytes(SynthConfig(), 6800, 120, images=False) < 0.25e9


def test_generate_refuses_what_the_disk_cannot_hold_in_one_line_before_writing(tmp_path, capsys, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))  # 1 MB free
    out = tmp_path / "deep" / "d"
    assert main.main(["generate", "--clips", "40", "--out", str(out), *SMALL]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "only 0.0 GB is free" in err and "fewer --clips" in err
    assert not (tmp_path / "deep").exists()
