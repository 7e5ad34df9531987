"""Print the markdown table of docs/RESULTS.md from the eval JSON files of scripts/eval_results.sh.

    python scripts/results_table.py RUNS/eval
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROWS = [
    ("rgb", "rgb alone"), ("depth", "depth alone"), ("skeleton", "skeleton alone (assets/model_skeleton.pt)"),
    ("late", "late fusion (rgb+depth+skeleton)"), ("mmtm", "MMTM, streaming (assets/model_default.pt)"),
    ("mmtm_no_depth", "MMTM model, depth absent (rgb+skeleton given)"),
    ("mmtm_skeleton_only", "MMTM model, skeleton only given"),
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
    mm = folder / "mmtm.json"
    if mm.is_file():
        r = json.loads(mm.read_text())
        if r.get("per_stream"):
            print()
            print("Streams inside the MMTM network (offline top-1): " + ", ".join(
                f"{m} {v['top1']:.3f}" for m, v in r["per_stream"].items()))
        worst = sorted(r["per_class"].items(), key=lambda kv: kv[1])[:5]
        print("Lowest per-class accuracy of MMTM: " + ", ".join(f"{k} {v:.2f}" for k, v in worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
