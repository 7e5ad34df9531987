import struct
from pathlib import Path

import numpy as np
import pytest

from fusion.plots import confusion_matrix_png, latency_cdf_png, training_curves_png


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert data.rstrip()[-8:-4] == b"IEND"
    return struct.unpack(">II", data[16:24])


def test_confusion_matrix_png(tmp_path: Path):
    labels = ["no_gesture", "fist", "swipe_left", "swipe_right"]
    cm = np.array([[5, 1, 0, 0], [0, 6, 0, 0], [1, 0, 3, 2], [0, 0, 0, 0]])
    w, h = _png_size(confusion_matrix_png(tmp_path / "cm.png", cm, labels))
    assert 300 <= w <= 2000 and 300 <= h <= 2000
    big = np.eye(12, dtype=int) * 3
    w2, h2 = _png_size(confusion_matrix_png(tmp_path / "sub" / "big.png", big,
                                            [f"c{i}" for i in range(12)], normalise=False))
    assert w2 > w and h2 > h  # the figure grows with the number of classes
    with pytest.raises(ValueError, match=r"\(4, 4\) matrix"):
        confusion_matrix_png(tmp_path / "x.png", cm[:3], labels)
    with pytest.raises(ValueError, match="non-negative"):
        confusion_matrix_png(tmp_path / "x.png", -cm, labels)
    assert not (tmp_path / "x.png").exists()


def test_training_curves_png(tmp_path: Path):
    history = {"train_loss": [2.0, 1.2, 0.8, 0.5], "val_loss": [2.1, 1.4, 1.0, 0.9],
               "train_acc": [0.2, 0.5, 0.7, 0.85], "val_acc": [0.2, 0.45, 0.6, 0.7]}
    w, h = _png_size(training_curves_png(tmp_path / "curves.png", history))
    assert 800 <= w <= 1200 and 300 <= h <= 500
    w1, _ = _png_size(training_curves_png(tmp_path / "loss.png", {"loss": [1.0, 0.5]}))
    assert w1 < w  # one panel only
    with pytest.raises(ValueError, match="loss"):
        training_curves_png(tmp_path / "x.png", {"lr": [0.1]})
    with pytest.raises(ValueError, match="non-empty"):
        training_curves_png(tmp_path / "x.png", {"loss": []})


def test_latency_cdf_png(tmp_path: Path):
    rng = np.random.default_rng(0)
    w, h = _png_size(latency_cdf_png(tmp_path / "cdf.png", {
        "cpu": rng.gamma(4, 10, 200), "gpu": rng.gamma(4, 2, 200)}))
    assert 500 <= w <= 700 and 300 <= h <= 500
    _png_size(latency_cdf_png(tmp_path / "one.png", [12.0, 15.0, 11.0]))
    with pytest.raises(ValueError, match="non-empty"):
        latency_cdf_png(tmp_path / "x.png", [])
    with pytest.raises(ValueError, match="finite"):
        latency_cdf_png(tmp_path / "x.png", [1.0, float("inf")])
