"""Cost per call of the latency statistics and the action dispatcher (the engine's bookkeeping).

    python benchmarks/bench_actions.py [--repeats 15] [--out FILE]

Prints the table of the "Actions" section of docs/BENCHMARKS.md (``--out`` also writes it to FILE).
Each figure is the median over ``--repeats`` runs of the mean time of one call in a batch.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from app.actions import ActionDispatcher, parse_actions
from app.latency import LatencyStats, StageTimes
from fusion.labels import DEFAULT_LABELS


@dataclass(frozen=True)
class Event:
    label: str
    score: float
    t: float

    def to_json(self) -> dict:
        return {"type": "gesture", "label": self.label, "score": self.score, "t": self.t}


def per_call_us(fn: Callable[[int], None], calls: int, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for i in range(calls):
            fn(i)
        runs.append((time.perf_counter_ns() - start) / calls / 1e3)
    return statistics.median(runs)


def full_record(i: int) -> StageTimes:
    t = StageTimes(stream="color", capture=i * 1000)
    for k, stage in enumerate(("arrival", "window", "infer_start", "infer_end", "decision", "emit"), 1):
        t = t.at(stage, i * 1000 + k * 100)
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--out", help="also write the results as markdown to this file")
    args = ap.parse_args()

    stats = LatencyStats(capacity=4096)
    for i in range(5000):  # full rings, so summary() sorts the largest arrays it ever will
        stats.add(full_record(i))
        stats.add_frame("color", i * 33_000_000)
    record = full_record(1)
    tmp = tempfile.TemporaryDirectory()
    text = f"""
[global]
cooldown_s = 0
[[gestures.swipe_right.actions]]
kind = "osc"
address = "/media/next"
args = ["$label", "$score"]
[[gestures.push.actions]]
kind = "jsonl"
path = "{Path(tmp.name) / 'events.jsonl'}"
[gestures.pull]
enabled = false
actions = [{{ kind = "osc", address = "/x" }}]
"""
    dispatcher = ActionDispatcher(parse_actions(text, labels=DEFAULT_LABELS))

    cases = [
        ("StageTimes: 7 stamps with .at()", lambda i: full_record(i), 2000),
        ("LatencyStats.add (all stages)", lambda i: stats.add(record), 2000),
        ("LatencyStats.add_frame", lambda i: stats.add_frame("color", i), 2000),
        ("LatencyStats.summary (4096 values x 8 intervals)", lambda i: stats.summary(), 20),
        ("ActionDispatcher.handle: skipped (disabled)", lambda i: dispatcher.handle(Event("pull", 0.9, i)), 2000),
        ("ActionDispatcher.handle: OSC to 127.0.0.1", lambda i: dispatcher.handle(Event("swipe_right", 0.9, i)), 1000),
        ("ActionDispatcher.handle: JSON line to a file", lambda i: dispatcher.handle(Event("push", 0.9, i)), 1000),
    ]
    rows = []
    for n, (name, fn, calls) in enumerate(cases, 1):
        print(f"[{n}/{len(cases)}] {name}", file=sys.stderr, flush=True)
        rows.append((name, per_call_us(fn, calls, args.repeats)))
    dispatcher.stop()
    tmp.cleanup()

    machine = f"{platform.machine()} CPU, {platform.python_implementation()} {platform.python_version()}"
    lines = [
        f"`python benchmarks/bench_actions.py --repeats {args.repeats}`; machine: 2-core x86-64 CPU, "
        f"no GPU ({machine}). Median over {args.repeats} runs of the mean cost of one call.",
        "",
        "| call | µs per call |",
        "| --- | ---: |",
        *[f"| {name} | {us:.1f} |" for name, us in rows],
    ]
    print("\n".join(lines))
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
