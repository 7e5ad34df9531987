"""Measure the real hands with MediaPipe and write the reference the realism tests compare against.

    python scripts/measure_real_hands.py --model $(python main.py fetch-models)   # → real_reference.json

MediaPipe's HandLandmarker on ``hand_test_video.mp4`` (every frame) and ``hand_test_image.jpg`` of
the real footage (``--real``, default ``../shared/data/real``): min / median / max of the bone
ratios, joint angles and fingertip spreads, and the photo's landmarks
(``fusion.data.synthetic.measure_real``). Prints the path written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fusion.data.synthetic import measure_real
from fusion.errors import BadInput

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="hand_landmarker.task (python main.py fetch-models)")
    parser.add_argument("--real", default=str(ROOT.parent / "shared" / "data" / "real"))
    parser.add_argument("--out", default=str(ROOT / "fusion" / "data" / "synthetic" / "real_reference.json"))
    args = parser.parse_args(argv)
    try:
        reference = measure_real.measure(Path(args.model), Path(args.real))
    except BadInput as error:
        print(f"measure_real_hands: {error}", file=sys.stderr)
        return 2
    Path(args.out).write_text(json.dumps(reference, indent=1) + "\n")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
