"""Soak test: replay a recording through the engine again and again, and report resident memory growth.

    python benchmarks/soak_replay.py --minutes 30 [--source sample|PATH] [--model PATH|untrained] [--realtime]

One engine runs throughout, as in the app; each loop re-opens the recording through the engine's
``open_source`` control (new source, sync, ring buffers, recogniser; the same model, worker and
stats), so a leak in any of them shows as growth. RSS (VmRSS) is read after every loop; growth is measured
from the end of the first loop (allocator and model warm-up done) to the end of the last, and the
verdict is against the 5 % target. Without the bundled sample a synthetic 640x480 recording is written.
By default loops read the file as fast as the pipeline allows (more loops per minute; live
backpressure on); ``--realtime`` paces them at 30 fps.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--source", default=None, help="default: the bundled sample, else a synthetic recording")
    parser.add_argument("--model", default=None, help="checkpoint (default: the bundled one), or 'untrained'")
    parser.add_argument("--realtime", action="store_true")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the synthetic recording")
    args = parser.parse_args()

    from app.bench import write_synthetic_recording
    from app.engine import Engine, EngineConfig
    from app.model_runner import ModelRunner, RunnerConfig
    from app.sources.open import SAMPLE

    tmp = None
    source = args.source
    if source is None:
        if SAMPLE.is_file():
            source = "sample"
        else:
            tmp = tempfile.TemporaryDirectory(prefix="mmtm-soak-")
            source = str(write_synthetic_recording(Path(tmp.name) / "soak.mmtm", seconds=args.seconds))
    runner = ModelRunner.load(RunnerConfig(model=args.model))
    # one engine for the whole run, as in the app: each loop re-opens the replay (the window's "open
    # source"), so the inference thread, the model and the stats live on while sources come and go
    engine = Engine(EngineConfig(source=source, realtime=args.realtime, headless=False, snapshots=True),
                    out=io.StringIO(), runner=runner)
    engine.start()
    start = time.monotonic()
    samples = []
    loops = 0
    try:
        while True:
            feed = engine._feed
            feed.source.finished.wait()
            feed.source.join(timeout=10)  # re-raises the source's error, if any
            if engine._worker.failed:
                break
            loops += 1
            samples.append((round(time.monotonic() - start, 1), round(rss_mib(), 1), feed.decisions))
            elapsed = time.monotonic() - start
            print(f"\r[soak] {elapsed / 60:5.1f}/{args.minutes:g} min, loop {loops}, RSS {samples[-1][1]:.1f} MiB",
                  end="", file=sys.stderr, flush=True)
            if elapsed >= args.minutes * 60:
                break
            engine.open_source(source)
            if engine._feed is feed:
                raise RuntimeError(f"re-opening the replay failed: {engine._error}")
    finally:
        engine.finish()
    print(file=sys.stderr)
    first, last = samples[0][1], samples[-1][1]
    growth = (last - first) / first * 100
    half = samples[len(samples) // 2][1]
    second_half = (last - half) / half * 100  # a leak keeps growing; allocator warm-up levels off
    report = {"source": source if tmp is None else f"synthetic {args.seconds:g} s 640x480 recording",
              "model": runner.name, "minutes": round((time.monotonic() - start) / 60, 2), "loops": loops,
              "rss_first_loop_mib": first, "rss_last_loop_mib": last, "rss_max_mib": max(s[1] for s in samples),
              "growth_pct": round(growth, 2), "second_half_growth_pct": round(second_half, 2),
              "target_pct": 5.0, "met": growth < 5.0,
              "samples": samples}
    print(json.dumps(report))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
