"""The real folder's photos as other cameras and people would show them, through ``eval --real``'s photo path.

    .venv/bin/python scripts/photo_variants.py                      # the webcam model, ../shared/data/real
    .venv/bin/python scripts/photo_variants.py --model M --keep DIR  # another model; keep the images made

A development set holds a photo or two; the held-out photos are other people's, farther away, at
other angles, in other light. Each photo of ``manifest.json`` is made again in the ways a camera
would show the same hand otherwise (``VARIANTS``: mirrored, the hands 2-4 times smaller in a larger
frame, centred or low in a corner, turned 15° and 30° either way, cropped to a portrait, 3 times
larger, darker, heavily compressed), and every variant runs the way ``eval --real`` runs a photo
(``app.evaluate_real``: MediaPipe's hand landmarker on the photo, the hand held still in front of the
model for 1.5 s, the online recogniser). It prints what each variant is called and how many keep the
photo's label. A label holds under every variant for a hand held within 25° of its upright (a turn
of 30° keeps a thumbs-up within 70° of up, as the vocabulary asks). MediaPipe finds the landmarks
afresh on every variant, so this measures the model on the landmark variations a camera brings,
beside the image itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from app.evaluate_real import DEFAULT_REAL, RealEvalConfig, evaluate_real
from fusion.data.readers.real import read_manifest
from fusion.errors import BadInput

GREY = (128, 128, 128)


def _smaller(image: np.ndarray, k: int, corner: bool) -> np.ndarray:
    """The photo in a frame ``k`` times as large: centred, or in the lower left corner."""
    h, w = image.shape[:2]
    out = np.full((h * k, w * k, 3), GREY, np.uint8)
    top, left = (h * (k - 1), 0) if corner else ((h * k - h) // 2, (w * k - w) // 2)
    out[top:top + h, left:left + w] = image
    return out


def _turned(image: np.ndarray, degrees: float) -> np.ndarray:
    """The photo turned ``degrees`` counter-clockwise about its centre, the corners filled grey."""
    import cv2

    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), borderValue=GREY)


def _portrait(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    half = min(w, (2 * h) // 3) // 2
    return np.ascontiguousarray(image[:, w // 2 - half:w // 2 + half])


def _compressed(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 10])[1], cv2.IMREAD_COLOR)


def _larger(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.resize(image, (image.shape[1] * 3, image.shape[0] * 3), interpolation=cv2.INTER_CUBIC)


VARIANTS = {
    "as is": lambda image: image,
    "mirrored": lambda image: np.ascontiguousarray(image[:, ::-1]),
    **{f"{k}x smaller{', low left' if corner else ''}": (lambda image, k=k, corner=corner: _smaller(image, k, corner))
       for k in (2, 3, 4) for corner in (False, True)},
    **{f"turned {degrees:+d}°": (lambda image, degrees=degrees: _turned(image, degrees)) for degrees in (-30, -15, 15, 30)},
    "portrait crop": _portrait,
    "3x larger": _larger,
    "darker (35 %)": lambda image: (image * 0.35).astype(np.uint8),
    "JPEG quality 10": _compressed,
}


def variants_folder(real: Path, folder: Path) -> list[tuple[str, str, str]]:
    """Writes every photo's variants and their manifest into ``folder``: (photo, variant, label) per image."""
    import cv2

    made, items = [], []
    for n, photo in enumerate(read_manifest(real).photos):
        image = cv2.imread(str(photo.path), cv2.IMREAD_COLOR)
        if image is None:
            raise BadInput(f"{photo.path}: not a readable image")
        for k, (name, make) in enumerate(VARIANTS.items()):
            file = f"photo{n}_variant{k}.png"
            cv2.imwrite(str(folder / file), make(image))
            items.append({"file": file, "label": photo.label})
            made.append((photo.path.name, name, photo.label))
    if not items:
        raise BadInput(f"{real}/manifest.json lists no photos")
    (folder / "manifest.json").write_text(json.dumps({"photos": items}))
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", default=str(DEFAULT_REAL), help="a folder with manifest.json and its photos")
    parser.add_argument("--model", default=None, help="default: the model the app runs for a camera without depth")
    parser.add_argument("--keep", metavar="DIR", help="write the variants here (kept) instead of a temporary folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    try:
        with tempfile.TemporaryDirectory(prefix="mmtm-photos-") as tmp:
            folder = Path(args.keep or tmp)
            folder.mkdir(parents=True, exist_ok=True)
            made = variants_folder(Path(args.real), folder)
            report = evaluate_real(RealEvalConfig(root=str(folder), model=args.model, progress=False))
    except (BadInput, OSError) as error:  # OSError: a --keep folder that cannot be made or written
        print(f"photo_variants: {error}", file=sys.stderr)
        return 2
    rows = [{"photo": photo, "variant": variant, "expected": label, "called": item["called"], "score": item["score"],
             **({"note": item["note"]} if "note" in item else {})}
            for (photo, variant, label), item in zip(made, report["items"])]
    kept = sum(r["called"] == r["expected"] for r in rows)
    if args.json:
        print(json.dumps({"model": report["model"], "variants": rows, "kept": kept, "of": len(rows)}))
        return 0
    print(f"model: {report['model']['model']}")
    for r in rows:
        mark = "" if r["called"] == r["expected"] else "  <- " + r["expected"]
        print(f"{r['photo'][-28:]:28s} {r['variant']:22s} {r['called']:12s} {r['score']:.2f}{mark}"
              f"{'  (' + r['note'] + ')' if 'note' in r else ''}")
    print(f"kept their label: {kept} of {len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
