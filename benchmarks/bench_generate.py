"""Benchmark: how long the synthetic training set takes to generate on this machine.

    python benchmarks/bench_generate.py [--clips 2000] [--workers 2] [--out DIR]

Runs ``python main.py generate`` (the real command, writing to disk) for ``--clips`` clips of 32
frames at 160x120, and prints one JSON line: the clips, seconds, clips per second, ms per frame
bytes written, the CPU seconds the command used (all processes) and the load average (other
work on the machine slows the wall time; the CPU time shows the generator's own cost). Also times single clips in-process (median of ``--repeat``) to give the
per-frame cost without pool and disk.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=17)
    parser.add_argument("--out", help="dataset folder (default: a temporary one, deleted after)")
    args = parser.parse_args()

    from fusion.data.synthetic import world

    world.make_clip(0, 0)  # warm up imports
    single = []
    for i in range(args.repeat):
        start = time.perf_counter()
        world.make_clip(1, i)
        single.append(time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "synthetic"
        command = [sys.executable, str(ROOT / "main.py"), "generate", "--clips", str(args.clips), "--streams", "0",
                   "--seed", "0", "--out", str(out), "--workers", str(args.workers), "--json"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        load = os.getloadavg()
        summary = json.loads(result.stdout.strip().splitlines()[-1])
    frames = args.clips * 32
    print(json.dumps({
        "machine": f"{platform.machine()} CPU x{os.cpu_count()}, no GPU",
        "load_average_1_5_15_at_end": [round(v, 2) for v in load],
        "cpu_seconds": round(cpu, 1), "cpu_ms_per_frame": round(1000 * cpu / frames, 3),
        "clips": args.clips, "workers": args.workers, "frames": frames,
        "generate_seconds": summary["seconds"], "command_wall_seconds": round(wall, 2),
        "clips_per_second": round(args.clips / summary["seconds"], 2),
        "ms_per_frame_wall": round(1000 * summary["seconds"] / frames, 3),
        "single_clip_median_s": round(statistics.median(single), 4),
        "single_process_ms_per_frame": round(1000 * statistics.median(single) / 32, 3),
        "bytes": summary["bytes"], "under_5_minutes": summary["seconds"] < 300,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
