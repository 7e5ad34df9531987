"""scripts/photo_variants.py: each photo made again as other cameras would show it, run as eval --real runs photos."""

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import load_script


@pytest.fixture
def photo_variants(monkeypatch):
    return load_script("photo_variants", monkeypatch)


def _real_folder(tmp_path: Path, photos: dict[str, np.ndarray]) -> Path:
    real = tmp_path / "real"
    real.mkdir()
    for name, image in photos.items():
        cv2.imwrite(str(real / name), image)
    (real / "manifest.json").write_text(json.dumps({"photos": [{"file": n, "label": "fist"} for n in photos]}))
    return real


def test_every_variant_is_the_photo_shown_otherwise(photo_variants, tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    real = _real_folder(tmp_path, {"a.png": image})
    out = tmp_path / "out"
    out.mkdir()
    made = photo_variants.variants_folder(real, out)
    assert [v for _, v, _ in made] == list(photo_variants.VARIANTS) and all(l == "fist" for *_, l in made)
    items = json.loads((out / "manifest.json").read_text())["photos"]
    shown = {v: cv2.imread(str(out / item["file"])) for (_, v, _), item in zip(made, items)}
    assert np.array_equal(shown["as is"], image) and np.array_equal(shown["mirrored"], image[:, ::-1])
    small = shown["3x smaller"]
    assert small.shape == (120, 180, 3) and np.array_equal(small[40:80, 60:120], image)  # centred, a third as large
    assert np.array_equal(shown["2x smaller, low left"][40:, :60], image)
    assert shown["3x larger"].shape == (120, 180, 3) and shown["portrait crop"].shape[:2] == (40, 26)
    turned = shown["turned +30°"]
    back = cv2.warpAffine(turned, cv2.getRotationMatrix2D((30, 20), -30, 1.0), (60, 40))
    assert np.abs(back[15:25, 25:35].astype(int) - image[15:25, 25:35]).mean() < 40  # the middle turned back is the photo
    assert shown["darker (35 %)"].mean() < 0.4 * image.mean()


def test_the_variants_run_as_photos_and_count_what_keeps_its_label(photo_variants, tmp_path, monkeypatch, capsys):
    real = _real_folder(tmp_path, {"grey.png": np.full((48, 64, 3), 128, np.uint8)})  # no hand in it
    monkeypatch.setattr(sys, "argv", ["photo_variants.py", "--real", str(real), "--model", "untrained-skeleton",
                                      "--json"])
    pytest.importorskip("mediapipe")
    assert photo_variants.main() == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["variants"]) == len(photo_variants.VARIANTS) == report["of"]
    assert all(v["called"] == "no_gesture" and v["note"] == "no hand found" for v in report["variants"])
    assert report["kept"] == 0  # a fist never found is never kept


def test_a_folder_without_photos_is_one_line_and_exit_2(photo_variants, tmp_path, monkeypatch, capsys):
    real = tmp_path / "real"
    real.mkdir()
    (real / "manifest.json").write_text(json.dumps({"landmarks": []}))
    monkeypatch.setattr(sys, "argv", ["photo_variants.py", "--real", str(real)])
    assert photo_variants.main() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lists no photos" in err[0]


def test_a_keep_folder_that_cannot_be_made_is_one_line_and_exit_2(photo_variants, tmp_path, monkeypatch, capsys):
    real = _real_folder(tmp_path, {"a.png": np.zeros((8, 8, 3), np.uint8)})
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setattr(sys, "argv", ["photo_variants.py", "--real", str(real), "--keep", str(tmp_path / "file" / "x")])
    assert photo_variants.main() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("photo_variants:")
