"""scripts/results_table.py: the seed table (mean ± std, titles naming the fused modalities), clip by clip."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import load_script

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "results_table.py"


def _write(folder: Path, name: str, top1: float, modalities: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps({"top1": top1, "modalities": modalities, "per_class": {},
                                                    "clips": 50}))


def test_seed_rows_name_the_modalities_the_models_fused(tmp_path):
    folders = [tmp_path / f"s{i}" for i in range(3)]
    for folder, (late, mmtm) in zip(folders, [(0.80, 0.84), (0.82, 0.86), (0.84, 0.85)]):
        _write(folder, "depth", 0.75, ["depth"])
        _write(folder, "late", late, ["rgb", "depth"])
        _write(folder, "mmtm", mmtm, ["rgb", "depth"])
    out = subprocess.run([sys.executable, str(SCRIPT), "--seeds", *map(str, folders)],
                         capture_output=True, text=True, check=True).stdout
    rows = {line.split(" | ")[0].lstrip("| "): line for line in out.splitlines()[2:]}
    assert set(rows) == {"1. depth alone", "2. late fusion (rgb+depth), fine-tuned", "3. MMTM (rgb+depth), fine-tuned"}
    assert "| 3 | 0.820 ± 0.020 |" in rows["2. late fusion (rgb+depth), fine-tuned"]
    assert "| 3 | 0.850 ± 0.010 |" in rows["3. MMTM (rgb+depth), fine-tuned"]
    assert "| 0.840, 0.860, 0.850 |" in rows["3. MMTM (rgb+depth), fine-tuned"]
    assert rows["3. MMTM (rgb+depth), fine-tuned"].endswith("| 42/50, 43/50, 42/50 |")  # clips right per seed


def test_the_seed_table_compares_mmtm_and_late_fusion_clip_by_clip(tmp_path):
    folders = [tmp_path / f"s{i}" for i in range(2)]
    late = [[1, 1, 0, 0, 1, 0], [1, 0, 1, 1, 1, 1]]
    mmtm = [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]]  # only MMTM right: 2 and 1 clips; only late: 1 and 0
    for folder, a, b in zip(folders, late, mmtm):
        for name, correct in (("late", a), ("mmtm", b)):
            _write(folder, name, sum(correct) / len(correct), ["rgb", "depth"])
            path = folder / f"{name}.json"
            path.write_text(json.dumps({**json.loads(path.read_text()), "clip_correct": correct}))
    out = subprocess.run([sys.executable, str(SCRIPT), "--seeds", *map(str, folders)],
                         capture_output=True, text=True, check=True).stdout
    line = out.strip().splitlines()[-1]
    assert "per seed 2/1, 1/0; in all 3/1" in line
    assert line.endswith("p = 0.625")  # 2 · P(X ≤ 1), X ~ Binomial(4, 1/2) = 2 · 5/16


def test_the_seed_table_counts_the_streams_right_on_each_clip(tmp_path):
    folders = [tmp_path / f"s{i}" for i in range(2)]
    fused = [[1, 1, 0, 1], [0, 1, 1, 1]]
    rgb = [[1, 0, 0, 1], [0, 0, 1, 1]]
    depth = [[1, 1, 0, 0], [0, 0, 0, 1]]  # streams right per clip: 2 1 0 1 and 0 0 1 2
    for folder, f, r, d in zip(folders, fused, rgb, depth):
        _write(folder, "late", sum(f) / 4, ["rgb", "depth"])
        path = folder / "late.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "clip_correct": f,
                                    "per_stream": {"rgb": {"clip_correct": r}, "depth": {"clip_correct": d}}}))
    out = subprocess.run([sys.executable, str(SCRIPT), "--seeds", *map(str, folders)],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == ("late, its streams' own answers clip by clip, all seeds: "
                                            "0 right: 3 clips (fused right on 1), 1 right: 3 clips (fused right on 3), "
                                            "2 right: 2 clips (fused right on 2)")

    # a seed evaluated before eval gave each stream's clip_correct is named as left out, not counted
    _write(tmp_path / "s2", "late", 0.5, ["rgb", "depth"])
    out = subprocess.run([sys.executable, str(SCRIPT), "--seeds", *map(str, folders), str(tmp_path / "s2")],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1].startswith(
        "late, its streams' own answers clip by clip, 2 of 3 seeds (the rest were evaluated without "
        "per-stream clip_correct): 0 right: 3 clips (fused right on 1),")


def test_the_seed_table_averages_each_class_over_the_seeds(tmp_path):
    folders = [tmp_path / f"s{i}" for i in range(2)]
    for folder, (fist, swipe) in zip(folders, [(0.2, 1.0), (0.4, 0.9)]):
        _write(folder, "depth", 0.6, ["depth"])
        path = folder / "depth.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "per_class": {"swipe": swipe, "fist": fist}}))
    out = subprocess.run([sys.executable, str(SCRIPT), "--seeds", *map(str, folders)],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "depth, per class (mean over 2 seeds, lowest first): fist 0.30, swipe 0.95"


def test_clip_by_clip_refuses_evaluations_on_different_clips(tmp_path):
    for name, correct in (("late", [1, 0, 1]), ("mmtm", [1, 1])):
        _write(tmp_path, name, 0.5, ["rgb", "depth"])
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "clip_correct": correct}))
    run = subprocess.run([sys.executable, str(SCRIPT), "--seeds", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"{tmp_path}: mmtm and late were evaluated on different clips"]

def test_sign_test():
    sign_test = load_script("results_table").sign_test
    assert sign_test(0, 0) == 1.0 and sign_test(5, 5) == 1.0
    assert abs(sign_test(10, 0) - 2 / 1024) < 1e-12
    assert abs(sign_test(0, 10) - 2 / 1024) < 1e-12
