"""Benchmark: cost of one OnlineRecognizer.update() with the default labels.

    python benchmarks/bench_online.py [--steps 3000] [--repeats 5]

Prints the median over repeats of the mean time per update (random Dirichlet scores at 30 Hz).
"""
import argparse
import platform
import statistics
import sys
import time

import numpy as np

from fusion.labels import DEFAULT_LABELS
from fusion.online import OnlineConfig, OnlineRecognizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    scores = np.random.default_rng(0).dirichlet(np.ones(len(DEFAULT_LABELS)), args.steps)
    per_update = []
    for r in range(args.repeats):
        rec = OnlineRecognizer(OnlineConfig(), DEFAULT_LABELS)
        start = time.perf_counter()
        for i, row in enumerate(scores):
            rec.update(row, i / 30.0)
        per_update.append((time.perf_counter() - start) / args.steps * 1e6)
        print(f"repeat {r + 1}/{args.repeats}: {per_update[-1]:.1f} us", file=sys.stderr)
    print(f"OnlineRecognizer.update, {len(DEFAULT_LABELS)} labels, {args.steps} steps: "
          f"median {statistics.median(per_update):.1f} us per update over {args.repeats} repeats "
          f"({platform.machine()}, Python {platform.python_version()})")


if __name__ == "__main__":
    main()
