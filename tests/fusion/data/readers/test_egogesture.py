from pathlib import Path

import cv2
import numpy as np
import pytest

from fusion.data.readers.egogesture import CLASSES, EgoGestureReader, read_label_csv
from fusion.errors import BadInput

H, W, N = 6, 8, 12


def _write_group(root: Path, subject: int, scene: int, group: int, rows: str) -> None:
    base = root / "images_320-240" / f"Subject{subject:02d}" / f"Scene{scene}"
    color = base / "Color" / f"rgb{group}"
    depth = base / "Depth" / f"depth{group}"
    color.mkdir(parents=True)
    depth.mkdir(parents=True)
    for n in range(1, N + 1):
        # Frame n is flat: BGR (10n, 0, 200) and grey 20n, so order can be checked after JPEG.
        cv2.imwrite(str(color / f"{n:06d}.jpg"), np.full((H, W, 3), (10 * n, 0, 200), np.uint8))
        cv2.imwrite(str(depth / f"{n:06d}.jpg"), np.full((H, W), 20 * n, np.uint8))
    labels = root / "labels-final-revised1" / f"subject{subject:02d}" / f"Scene{scene}"
    labels.mkdir(parents=True, exist_ok=True)
    (labels / f"Group{group}.csv").write_text(rows)


@pytest.fixture
def ego(tmp_path: Path) -> Path:
    _write_group(tmp_path, 2, 1, 1, "3,2,5\n10,7,11\n")      # subject 2: test split
    _write_group(tmp_path, 2, 1, 2, "83,1,3\n,,\n")          # empty row as in the real CSVs
    _write_group(tmp_path, 3, 1, 1, "1,1,4\n")               # subject 3: train split
    return tmp_path


def test_reads_gestures_of_the_split_in_order(ego: Path):
    reader = EgoGestureReader(root=ego, split="test")
    assert len(CLASSES) == 83 and reader.classes == CLASSES
    assert [(s.group, s.label, s.start, s.end) for s in reader.samples] == \
        [(1, 2, 2, 5), (1, 9, 7, 11), (2, 82, 1, 3)]
    clip = reader[0]
    assert clip.label == 2 and clip.name == "Scroll_hand_downward"
    assert clip.color.shape == (4, H, W, 3) and clip.color.dtype == np.uint8
    assert clip.depth.shape == (4, H, W) and clip.depth.dtype == np.uint8
    # RGB order (blue channel last in BGR is first here) and frame order 2..5.
    assert np.allclose(clip.color[:, :, :, 2].mean(axis=(1, 2)), [20, 30, 40, 50], atol=3)
    assert np.allclose(clip.color[:, :, :, 0].mean(), 200, atol=3)
    assert np.allclose(clip.depth.mean(axis=(1, 2)), [40, 60, 80, 100], atol=3)
    assert [c.name for c in reader] == ["Scroll_hand_downward", "Rotate_fists_clockwise",
                                        "Move_fingers_forward"]
    sessions = reader.sessions()
    assert [s.segments for s in sessions] == [
        (("Scroll_hand_downward", 2, 5), ("Rotate_fists_clockwise", 7, 11)),
        (("Move_fingers_forward", 1, 3),)]
    assert sessions[0].segments_seconds(fps=10.0) == [("Scroll_hand_downward", 0.1, 0.4),
                                                     ("Rotate_fists_clockwise", 0.6, 1.0)]
    frames = list(sessions[0].frames(("depth",)))
    assert [n for n, _, _ in frames] == list(range(1, N + 1))
    assert frames[0][1] is None and frames[0][2].shape == (H, W)
    n, color, depth = next(sessions[0].frames())
    assert n == 1 and color.shape == (H, W, 3) and depth.shape == (H, W)


def test_split_subjects_and_modalities(ego: Path):
    train = EgoGestureReader(root=ego, split="train", modalities=("depth",))
    assert [s.subject for s in train.samples] == [3]
    assert train[0].color is None and train[0].depth.shape == (4, H, W)
    assert len(EgoGestureReader(root=ego, split="all")) == 4
    assert len(EgoGestureReader(root=ego, subjects=[3, 2])) == 4
    with pytest.raises(BadInput, match="no labelled EgoGesture subject"):
        EgoGestureReader(root=ego, split="val")
    with pytest.raises(BadInput, match="unknown EgoGesture split"):
        EgoGestureReader(root=ego, split="dev")


def test_malformed_csv_line_names_file_and_line(ego: Path):
    bad = ego / "labels-final-revised1" / "subject02" / "Scene1" / "Group1.csv"
    bad.write_text("3,2,5\nten,7,11\n")
    with pytest.raises(BadInput, match=r"Group1\.csv:2: expected integers"):
        EgoGestureReader(root=ego, split="test")
    bad.write_text("3,2,5\n99,7,11\n")
    with pytest.raises(BadInput, match=r"Group1\.csv:2: class 99"):
        read_label_csv(bad)
    bad.write_text("3,9,5\n")
    with pytest.raises(BadInput, match=r"Group1\.csv:1: bad frame range"):
        read_label_csv(bad)


def test_missing_folders_and_frames_raise(ego: Path, tmp_path: Path):
    with pytest.raises(BadInput, match="label folder missing"):
        EgoGestureReader(root=tmp_path / "nowhere")
    frame = ego / "images_320-240" / "Subject02" / "Scene1" / "Color" / "rgb1" / "000004.jpg"
    frame.unlink()
    reader = EgoGestureReader(root=ego, split="test")
    with pytest.raises(BadInput, match=r"000004\.jpg: frame missing"):
        reader[0]
    frame.write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(BadInput, match=r"000004\.jpg: not a readable JPEG"):
        reader[0]
    import shutil
    shutil.rmtree(ego / "images_320-240" / "Subject02" / "Scene1" / "Depth")
    with pytest.raises(BadInput, match=r"depth1: frame folder missing"):
        EgoGestureReader(root=ego, split="test")
