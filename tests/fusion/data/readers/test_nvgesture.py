from pathlib import Path

import cv2
import numpy as np
import pytest

from fusion.data.readers.nvgesture import CLASSES, NVGestureReader, read_list
from fusion.errors import BadInput

H, W, N = 24, 32, 20


def _write_avi(path: Path, n: int, colour) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (W, H))
    assert writer.isOpened()
    for i in range(n):
        writer.write(np.full((H, W, 3), colour(i), np.uint8))  # BGR
    writer.release()


def _write_sample(root: Path, folder: str, n: int = N) -> None:
    _write_avi(root / folder / "sk_color.avi", n, lambda i: (200, 0, 10 * i))
    _write_avi(root / folder / "sk_depth.avi", n, lambda i: (12 * i, 12 * i, 12 * i))


LINE = ("path:./Video_data/class_{c:02d}/subject{s}_r0 depth:sk_depth:{a}:{b} "
        "color:sk_color:{a}:{b} duo_left:duo_left:{a}:{b} label:{c}\n")


@pytest.fixture
def nv(tmp_path: Path) -> Path:
    _write_sample(tmp_path, "Video_data/class_03/subject1_r0")
    _write_sample(tmp_path, "Video_data/class_25/subject2_r0")
    (tmp_path / "nvgesture_train_correct_cvpr2016_v2.lst").write_text(
        LINE.format(c=3, s=1, a=5, b=9) + "\n" + LINE.format(c=25, s=2, a=0, b=3))
    (tmp_path / "nvgesture_test_correct_cvpr2016_v2.lst").write_text(
        LINE.format(c=25, s=2, a=10, b=20))
    return tmp_path


def test_reads_clips_in_the_list_range(nv: Path):
    reader = NVGestureReader(root=nv, split="train")
    assert len(CLASSES) == 25 and len(reader) == 2
    clip = reader[0]
    assert clip.label == 2 and clip.name == "move_hand_up"
    assert clip.color.shape == (4, H, W, 3) and clip.color.dtype == np.uint8
    assert clip.depth.shape == (4, H, W) and clip.depth.dtype == np.uint8
    # Frames 5..8: red (RGB channel 0) = 10 i, blue = 200; depth = 12 i.
    assert np.allclose(clip.color[..., 0].mean(axis=(1, 2)), [50, 60, 70, 80], atol=4)
    assert np.allclose(clip.color[..., 2].mean(), 200, atol=4)
    assert np.allclose(clip.depth.mean(axis=(1, 2)), [60, 72, 84, 96], atol=4)
    last = reader[1]
    assert last.label == 24 and last.name == "okay_gesture" and last.color.shape[0] == 3
    test = NVGestureReader(root=nv, split="test", modalities=("depth",))
    (clip,) = list(test)
    assert clip.color is None and clip.depth.shape == (10, H, W)


def test_malformed_list_lines_name_file_and_line(nv: Path):
    lst = nv / "bad.lst"
    cases = {
        "label:3\n": "must start with 'path:",
        "path:./x depth:sk_depth:5 label:3\n": "expected 'depth:<file>:<start>:<end>'",
        "path:./x color:sk_color:9:5 label:3\n": "empty frame range",
        "path:./x color:sk_color:1:5 label:26\n": "label must be 1..25",
        "path:./x color:sk_color:1:5\n": "no 'label:' field",
        "path:./x colour:sk_color:1:5 label:1\n": "unknown field",
    }
    for text, message in cases.items():
        lst.write_text(LINE.format(c=3, s=1, a=5, b=9) + text)
        with pytest.raises(BadInput, match=rf"bad\.lst:2: .*{message}"):
            read_list(lst, nv)
    lst.write_text("path:./x color:sk_color:1:5 label:1\n")
    with pytest.raises(BadInput, match=r"bad\.lst:1: no 'depth:' field"):
        NVGestureReader(root=nv, lst=lst)


def test_missing_and_truncated_files_raise(nv: Path, tmp_path: Path):
    with pytest.raises(BadInput, match="split list missing"):
        NVGestureReader(root=nv / "Video_data", split="train")
    with pytest.raises(BadInput, match="root folder missing"):
        NVGestureReader(root=tmp_path / "nowhere")
    # The list asks for frames 10..19 of a video that was cut to 12 frames.
    _write_sample(nv, "Video_data/class_25/subject2_r0", n=12)
    reader = NVGestureReader(root=nv, split="test")
    with pytest.raises(BadInput, match=r"sk_color\.avi: video ends at frame 12"):
        reader[0]
    (nv / "Video_data/class_25/subject2_r0/sk_color.avi").unlink()
    with pytest.raises(BadInput, match=r"sk_color\.avi: video missing"):
        reader[0]
    (nv / "Video_data/class_25/subject2_r0/sk_color.avi").write_bytes(b"RIFF nonsense")
    with pytest.raises(BadInput, match=r"sk_color\.avi: (not a readable video|video ends)"):
        reader[0]
