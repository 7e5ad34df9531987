"""Print the markdown table of docs/RESULTS.md from the eval JSON files of scripts/eval_results.sh.

    python scripts/results_table.py RUNS/eval
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROWS = [
    ("rgb", "1. rgb alone"), ("depth", "1. depth alone"), ("skeleton", "1. skeleton alone"),
    ("late", "2. late fusion (rgb+depth+skeleton)"), ("mmtm", "3. MMTM, streaming"),
    ("mmtm_tuned", "3. MMTM, streaming, recogniser settings tuned"),
    ("skeleton_online", "4. skeleton alone + online step (assets/model_skeleton.pt)"),
    ("mmtm_online", "4. MMTM + online step (assets/model_default.pt)"),
    ("mmtm_online_no_depth", "4. MMTM + online step, depth absent (rgb+skeleton given)"),
    ("mmtm_online_skeleton_only", "4. MMTM + online step, skeleton only given"),
]


def fmt(x, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def main() -> int:
    folder = Path(sys.argv[1])
    print("| model | offline top-1 | online Levenshtein | false triggers / h | delay p50 / p95 (ms) | seen p50 | events / true |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, title in ROWS:
        path = folder / f"{name}.json"
        if not path.is_file() or not path.read_text().strip():
            continue
        r = json.loads(path.read_text())
        o = r.get("online") or {}
        print(f"| {title} | {r['top1']:.3f} | {fmt(o.get('levenshtein'), '.3f')} | "
              f"{fmt(o.get('false_triggers_per_hour'), '.0f')} ({o.get('false_triggers', 'n/a')} in "
              f"{fmt((o.get('no_gesture_hours') or 0) * 60, '.1f')} min) | "
              f"{fmt(o.get('delay_ms_p50'), '.0f')} / {fmt(o.get('delay_ms_p95'), '.0f')} | "
              f"{fmt(o.get('seen_p50'), '.2f')} | {o.get('n_events', 'n/a')} / {o.get('n_true', 'n/a')} |")
    for mm in (folder / "mmtm.json", folder / "mmtm_online.json"):
        if not mm.is_file():
            continue
        print(f"\n{mm.stem}:")
        r = json.loads(mm.read_text())
        if r.get("per_stream"):
            print("streams inside the MMTM network (offline top-1): " + ", ".join(
                f"{m} {v['top1']:.3f}" for m, v in r["per_stream"].items()))
        worst = sorted(r["per_class"].items(), key=lambda kv: kv[1])[:5]
        print("lowest per-class accuracy: " + ", ".join(f"{k} {v:.2f}" for k, v in worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
