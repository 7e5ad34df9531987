from pathlib import Path

import cv2
import numpy as np
import pytest

from fusion.data.readers.ntu import CLASSES, NTUReader, read_skeleton
from fusion.errors import BadInput


def _joint(t: int, m: int, j: int) -> str:
    # x y z depthX depthY colorX colorY oriW oriX oriY oriZ trackingState
    x, y, z = t + 0.01 * j, m + 0.5, 2.0 + 0.1 * t
    return f"{x} {y} {z} {100 + j} {200 + t} {1000 + j} {500 + m} 1 0 0 0 {2 if j % 5 else 1}"


def _skeleton_text(bodies_per_frame: list[int]) -> str:
    lines = [str(len(bodies_per_frame))]
    for t, n in enumerate(bodies_per_frame):
        lines.append(str(n))
        for m in range(n):
            lines.append(f"{72057594037931101 + m} 0 1 1 1 1 0 -0.2 0.1 2")
            lines.append("25")
            lines += [_joint(t, m, j) for j in range(25)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def ntu(tmp_path: Path) -> Path:
    sk = tmp_path / "nturgb+d_skeletons"
    sk.mkdir()
    (sk / "S001C001P001R001A023.skeleton").write_text(_skeleton_text([1, 2, 0]))
    (sk / "S001C002P003R002A010.skeleton").write_text(_skeleton_text([1, 1]))
    (sk / "S018C001P008R001A061.skeleton").write_text(_skeleton_text([1]))  # NTU 120 only
    rgb = tmp_path / "nturgb+d_rgb"
    rgb.mkdir()
    for name in ("S001C001P001R001A023", "S001C002P003R002A010"):
        writer = cv2.VideoWriter(str(rgb / f"{name}_rgb.avi"), cv2.VideoWriter_fourcc(*"MJPG"),
                                 30.0, (32, 24))
        for i in range(3):
            writer.write(np.full((24, 32, 3), (0, 0, 40 * (i + 1)), np.uint8))
        writer.release()
    return tmp_path


def test_parses_bodies_joints_and_padding(ntu: Path):
    s = read_skeleton(ntu / "nturgb+d_skeletons" / "S001C001P001R001A023.skeleton")
    assert s.xyz.shape == (3, 2, 25, 3) and s.xyz.dtype == np.float32
    assert s.color_xy.shape == (3, 2, 25, 2) and s.joint_state.shape == (3, 2, 25)
    assert s.bodies.tolist() == [1, 2, 0]
    assert s.present.tolist() == [[True, False], [True, True], [False, False]]
    assert s.xyz[1, 1, 7] == pytest.approx([1.07, 1.5, 2.1])
    assert s.depth_xy[2].sum() == 0 and s.xyz[0, 1].sum() == 0
    assert s.depth_xy[1, 0, 3].tolist() == [103, 201]
    assert s.color_xy[1, 1, 3].tolist() == [1003, 501]
    assert s.joint_state[0, 0, :6].tolist() == [1, 2, 2, 2, 2, 1]
    one = read_skeleton(ntu / "nturgb+d_skeletons" / "S001C001P001R001A023.skeleton",
                        max_bodies=1)
    assert one.xyz.shape == (3, 1, 25, 3) and one.bodies.tolist() == [1, 2, 0]


def test_benchmark_splits_and_samples(ntu: Path):
    sk, rgb = ntu / "nturgb+d_skeletons", ntu / "nturgb+d_rgb"
    assert len(CLASSES) == 60
    xsub_train = NTUReader(skeletons=sk, benchmark="xsub", split="train")
    assert [s.skeleton.stem for s in xsub_train.samples] == ["S001C001P001R001A023"]
    xsub_test = NTUReader(skeletons=sk, benchmark="xsub", split="test")
    assert [(s.performer, s.label, s.name) for s in xsub_test.samples] == [(3, 9, "clapping")]
    xview_train = NTUReader(skeletons=sk, benchmark="xview", split="train", rgb=rgb)
    assert [s.camera for s in xview_train.samples] == [2]
    (clip,) = list(xview_train)
    assert clip.label == 9 and clip.skeleton.xyz.shape == (2, 2, 25, 3)
    assert clip.rgb.shape == (3, 24, 32, 3) and clip.rgb.dtype == np.uint8
    assert np.allclose(clip.rgb[..., 0].mean(axis=(1, 2)), [40, 80, 120], atol=4)  # red, in RGB
    small = NTUReader(skeletons=sk, benchmark="xview", split="train", rgb=rgb, rgb_size=(16, 12))
    assert small[0].rgb.shape == (3, 12, 16, 3)
    everything = NTUReader(skeletons=sk, benchmark=None)
    assert len(everything) == 2  # A061 is left out
    assert everything[0].name == "hand waving" and everything[0].rgb is None
    excluded = NTUReader(skeletons=sk, benchmark=None, exclude={"S001C001P001R001A023"})
    assert len(excluded) == 1


def test_malformed_and_truncated_files_name_file_and_line(tmp_path: Path):
    path = tmp_path / "S001C001P001R001A001.skeleton"
    good = _skeleton_text([1, 1]).splitlines()
    # line 1 frames, 2 body count, 3 body info, 4 joint count, 5..29 joints, 30 body count …
    cases = {
        "x": (0, r":1: expected the frame count"),
        "1 2 3": (2, r":3: expected a body info line \(10 numbers\)"),
        "24": (3, r":4: expected 25 joints, got 24"),
        "0.1 0.2 nan 1 1 1 1 1 0 0 0 2": (10, r":11: expected a joint line"),
        "0.1 0.2": (10, r":11: expected a joint line \(12 numbers\)"),
    }
    for text, (index, message) in cases.items():
        lines = list(good)
        lines[index] = text
        path.write_text("\n".join(lines))
        with pytest.raises(BadInput, match=r"A001\.skeleton" + message):
            read_skeleton(path)
    path.write_text("\n".join(good[:40]))  # cut inside frame 2
    with pytest.raises(BadInput, match=r"A001\.skeleton:41: file ends early"):
        read_skeleton(path)
    with pytest.raises(BadInput, match="skeleton file missing"):
        read_skeleton(tmp_path / "nope.skeleton")


def test_bad_folders_names_and_missing_rgb_raise(ntu: Path, tmp_path: Path):
    sk = ntu / "nturgb+d_skeletons"
    with pytest.raises(BadInput, match="skeleton folder missing"):
        NTUReader(skeletons=tmp_path / "nowhere")
    with pytest.raises(BadInput, match="unknown NTU benchmark"):
        NTUReader(skeletons=sk, benchmark="xset")
    (ntu / "nturgb+d_rgb" / "S001C002P003R002A010_rgb.avi").unlink()
    with pytest.raises(BadInput, match=r"S001C002P003R002A010_rgb\.avi: RGB video missing"):
        NTUReader(skeletons=sk, rgb=ntu / "nturgb+d_rgb", benchmark="xsub", split="test")
    (sk / "notes.skeleton").write_text("1\n0\n")
    with pytest.raises(BadInput, match=r"notes\.skeleton: not an NTU RGB\+D file name"):
        NTUReader(skeletons=sk)
