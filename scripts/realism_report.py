"""Print the realism report of the synthetic world: the markdown tables of docs/synthetic.md.

    python scripts/realism_report.py                                          # the development set per class,
                                                                              # skeletons, the photo, depth noise
    python scripts/realism_report.py --model $(python main.py fetch-models)   # + MediaPipe on rendered frames

Generated hands against MediaPipe on the real footage (``real_reference.json``, written by
``scripts/measure_real_hands.py``), the real thumbs-up photo against each generated static class,
and the rendered depth noise against the D4xx error model (``fusion.data.synthetic.realism``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fusion.data.synthetic import realism


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="hand_landmarker.task: also run MediaPipe on rendered frames")
    parser.add_argument("--real", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "real"),
                        help="the real development set (its hands per class are compared first; skipped when absent)")
    args = parser.parse_args(argv)
    print(realism.report(args.real if (Path(args.real) / "manifest.json").is_file() else None))
    if args.model:
        r = realism.mediapipe_on_rendered(Path(args.model))
        print(f"\n**MediaPipe on rendered frames** (640x480, the last gesture frame of clips 0-16, seed 0): "
              f"hand found in {r['found']} of {r['frames']}; handedness agrees in {r['handedness_agrees']} of "
              f"{r['found']}; median landmark distance {r['median_error_over_palm']:.3f} palm lengths.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
