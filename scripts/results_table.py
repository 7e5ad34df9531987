"""Print the markdown tables of docs/RESULTS.md from the eval JSON files of scripts/eval_results.sh.

    python scripts/results_table.py RUNS/eval                       # one training seed: every row
    python scripts/results_table.py --seeds R0/eval R1/eval R2/eval  # mean ± std over seeds

With ``--seeds`` it also compares MMTM and late fusion clip by clip (the eval JSON's
``clip_correct``): the clips only one of the two gets right, per seed and in all, with a two-sided
sign test on them; and, for each of the two, how many of its streams get each clip right (the
streams' own answers inside the network, ``per_stream[m]["clip_correct"]``): an average can fix
a clip that one stream gets wrong only where another gets it right. Last, each model's per-class
top-1 averaged over the seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROWS = [
    ("rgb", "1. rgb alone"), ("depth", "1. depth alone"), ("skeleton", "1. skeleton alone"),
    ("late_avg", "2. late fusion, average of the streams ({mods}), not fine-tuned"),
    ("late", "2. late fusion ({mods}), fine-tuned"), ("mmtm", "3. MMTM ({mods}), fine-tuned"),
    ("mmtm_tuned", "3. MMTM, recogniser settings tuned"),
    ("skeleton_online", "4. skeleton alone + online step (assets/model_skeleton.pt)"),
    ("mmtm_online", "4. MMTM + online step (assets/model_default.pt)"),
    ("mmtm_online_no_depth", "4. MMTM + online step, depth absent (rgb+skeleton given)"),
    ("mmtm_online_skeleton_only", "4. MMTM + online step, skeleton only given"),
]
SEED_ROWS = ROWS[:6]


def titled(title: str, result: dict) -> str:
    """A row title with the evaluated model's modalities in place of ``{mods}``."""
    return title.format(mods="+".join(result.get("modalities", ())))


def fmt(x, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def load(folder: Path, name: str) -> dict | None:
    path = folder / f"{name}.json"
    if not path.is_file() or not path.read_text().strip():
        return None
    return json.loads(path.read_text())


def one_seed(folder: Path) -> None:
    print("| model | offline top-1 | online Levenshtein | false triggers / h | delay p50 / p95 (ms) | seen p50 | events / true |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, title in ROWS:
        r = load(folder, name)
        if r is None:
            continue
        o = r.get("online") or {}
        print(f"| {titled(title, r)} | {fmt(r['top1'], '.3f')} | {fmt(o.get('levenshtein'), '.3f')} | "
              f"{fmt(o.get('false_triggers_per_hour'), '.0f')} ({o.get('false_triggers', 'n/a')} in "
              f"{fmt((o.get('no_gesture_hours') or 0) * 60, '.1f')} min) | "
              f"{fmt(o.get('delay_ms_p50'), '.0f')} / {fmt(o.get('delay_ms_p95'), '.0f')} | "
              f"{fmt(o.get('seen_p50'), '.2f')} | {o.get('n_events', 'n/a')} / {o.get('n_true', 'n/a')} |")
    for name in ("late", "mmtm", "mmtm_online"):
        r = load(folder, name)
        if r is None:
            continue
        print(f"\n{name}:")
        if r.get("per_stream"):
            print("streams inside the network (offline top-1): " + ", ".join(
                f"{m} {v['top1']:.3f}" for m, v in r["per_stream"].items()))
        worst = sorted(r["per_class"].items(), key=lambda kv: kv[1])[:5]
        print("lowest per-class accuracy: " + ", ".join(f"{k} {v:.2f}" for k, v in worst))


def mean_std(values: list[float], spec: str) -> str:
    if not values:
        return "n/a"
    if len(values) == 1:
        return format(values[0], spec)
    return f"{format(float(np.mean(values)), spec)} ± {format(float(np.std(values, ddof=1)), spec)}"


def seeds(folders: list[Path]) -> None:
    print("| model | seeds | offline top-1 | online Levenshtein | false triggers / h | per seed (top-1) | clips right per seed |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, title in SEED_ROWS:
        runs = [r for r in (load(f, name) for f in folders) if r is not None]
        if not runs:
            continue
        online = [r.get("online") or {} for r in runs]
        lev = [o["levenshtein"] for o in online if o.get("levenshtein") is not None]
        ft = [o["false_triggers_per_hour"] for o in online if o.get("false_triggers_per_hour") is not None]
        print(f"| {titled(title, runs[0])} | {len(runs)} | {mean_std([r['top1'] for r in runs], '.3f')} | {mean_std(lev, '.3f')} | "
              f"{mean_std(ft, '.0f')} | {', '.join(format(r['top1'], '.3f') for r in runs)} | "
              f"{', '.join(_right(r) for r in runs)} |")


def paired(folders: list[Path], a: str = "mmtm", b: str = "late") -> None:
    """Clips only ``a`` gets right against clips only ``b`` gets right, per seed and summed, and the
    two-sided sign test on those discordant clips (McNemar's exact test)."""
    pairs = []
    for folder in folders:
        ra, rb = load(folder, a), load(folder, b)
        if ra is None or rb is None or "clip_correct" not in ra or "clip_correct" not in rb:
            continue
        ca, cb = np.asarray(ra["clip_correct"], bool), np.asarray(rb["clip_correct"], bool)
        if ca.shape != cb.shape:
            print(f"{folder}: {a} and {b} were evaluated on different clips", file=sys.stderr)
            sys.exit(2)
        pairs.append((int((ca & ~cb).sum()), int((cb & ~ca).sum())))
    if not pairs:
        return
    only_a, only_b = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    print(f"\n{a} against {b}, clip by clip (clips only {a} gets right / only {b} gets right): per seed "
          + ", ".join(f"{x}/{y}" for x, y in pairs)
          + f"; in all {only_a}/{only_b}, two-sided sign test p = {sign_test(only_a, only_b):.3f}")


def streams_right(folders: list[Path], names: tuple[str, ...] = ("late", "mmtm")) -> None:
    """Per fusion network: the clips on which 0, 1, … of its streams are right, summed over the seeds
    whose evaluation has each stream's answers (it says when that is not all of them), and on how
    many of each group the fused answer is right."""
    for name in names:
        counts, fused_right, seeds = None, None, 0
        for folder in folders:
            r = load(folder, name) or {}
            streams = [v.get("clip_correct") for v in (r.get("per_stream") or {}).values()]
            if "clip_correct" not in r or not streams or None in streams:
                continue  # evaluated before eval --json gave each stream's clip_correct
            seeds += 1
            right = np.sum(streams, axis=0)  # streams right per clip
            fused = np.asarray(r["clip_correct"], bool)
            k = len(streams) + 1
            c = np.bincount(right, minlength=k)
            f = np.bincount(right, weights=fused, minlength=k)
            counts, fused_right = (c, f) if counts is None else (counts + c, fused_right + f)
        if counts is None:
            continue
        groups = ", ".join(f"{i} right: {n} clips (fused right on {int(fr)})"
                           for i, (n, fr) in enumerate(zip(counts, fused_right)))
        covered = ("all seeds" if seeds == len(folders) else
                   f"{seeds} of {len(folders)} seeds (the rest were evaluated without per-stream clip_correct)")
        print(f"\n{name}, its streams' own answers clip by clip, {covered}: {groups}")


def per_class(folders: list[Path]) -> None:
    """Per model of steps 1-3: each class's top-1, averaged over the seeds, lowest first."""
    for name, _ in SEED_ROWS:
        runs = [r for r in (load(f, name) for f in folders) if r is not None and r.get("per_class")]
        if not runs:
            continue
        means = {k: float(np.mean([r["per_class"][k] for r in runs])) for k in runs[0]["per_class"]}
        print(f"\n{name}, per class (mean over {len(runs)} seeds, lowest first): "
              + ", ".join(f"{k} {v:.2f}" for k, v in sorted(means.items(), key=lambda kv: kv[1])))


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact binomial test of ``wins`` against ``losses`` under p = 1/2 (ties left out)."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(wins, losses) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def _right(result: dict) -> str:
    """Clips called right, of the clips evaluated ("n/a" for a result that does not say how many)."""
    if "clips" not in result:
        return "n/a"
    return f"{round(result['top1'] * result['clips'])}/{result['clips']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="eval folders (one per training seed with --seeds)")
    parser.add_argument("--seeds", action="store_true", help="mean ± std of steps 1-3 over the folders")
    args = parser.parse_args()
    if args.seeds:
        seeds(args.folders)
        paired(args.folders)
        streams_right(args.folders)
        per_class(args.folders)
    else:
        for folder in args.folders:
            one_seed(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
