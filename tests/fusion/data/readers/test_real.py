"""The real-footage readers: manifest, MediaPipe landmark text protos, keypoint tables and their split."""

import json
from pathlib import Path

import numpy as np
import pytest

from fusion.data.readers.real import (
    TABLE_FRAME,
    TABLE_HAND_SPAN,
    TABLE_WRIST,
    KeypointTable,
    contiguous_blocks,
    read_landmarks_pbtxt,
    read_manifest,
    read_table,
    table_hands,
    table_split,
)
from fusion.errors import BadInput

MANIFEST = {
    "vocabulary_note": "ignored",
    "extra_field": {"later sets": "may say more"},
    "videos": [{"file": "v/a.mp4", "fps": 15, "mirrored": True, "unknown": 1,
                "sequence": [{"label": "swipe_left", "frames": [35, 50], "note": "x"},
                             {"label": "swipe_up", "frames": [60, 70]}],
                "allowed": ["open_palm"]},
               {"file": "b.mp4"}],
    "photos": [{"file": "p.jpg", "label": "thumbs_up", "note": "two hands"}],
    "landmarks": [{"file": "l/fist_landmarks.pbtxt", "label": "fist"}],
    "keypoint_tables": [{"file": "k/keypoint.csv", "format": "label, then x0,y0..x20,y20",
                         "labels": {"0": "open_palm", "1": "fist"}},
                        {"file": "k/point_history.csv", "labels": {"0": "no_gesture", "1": "rotate_cw", "3": "move"}}],
}


def _write_manifest(root: Path, data) -> Path:
    text = data if isinstance(data, str) else json.dumps(data)
    (root / "manifest.json").write_text(text, encoding="utf-8")
    return root


def test_manifest_reads_all_four_item_kinds_and_ignores_unknown_fields(tmp_path):
    m = read_manifest(_write_manifest(tmp_path, MANIFEST))
    assert m.root == tmp_path and len(m) == 2 + 1 + 1 + 2
    a, b = m.videos
    assert a.path == tmp_path / "v/a.mp4" and a.fps == 15.0 and a.mirrored is True and a.allowed == ("open_palm",)
    assert [(s.label, s.frames) for s in a.sequence] == [("swipe_left", (35, 50)), ("swipe_up", (60, 70))]
    assert b.path == tmp_path / "b.mp4" and b.fps == 0.0 and b.sequence == () and b.allowed == () and not b.mirrored
    assert [(p.path, p.label) for p in m.photos] == [(tmp_path / "p.jpg", "thumbs_up")]
    assert [(p.path, p.label) for p in m.landmarks] == [(tmp_path / "l/fist_landmarks.pbtxt", "fist")]
    keypoints, history = m.tables
    assert keypoints.kind == "keypoints" and keypoints.labels == {"0": "open_palm", "1": "fist"}
    assert history.kind == "point_history" and history.labels == {"0": "no_gesture", "1": "rotate_cw"}  # "move" dropped


def test_manifest_without_some_kinds_is_empty_there(tmp_path):
    m = read_manifest(_write_manifest(tmp_path, {"photos": [{"file": "p.jpg", "label": "no_gesture"}]}))
    assert m.videos == () and m.landmarks == () and m.tables == () and len(m) == 1


@pytest.mark.parametrize("text", [
    "{not json",
    "[1, 2]",                                                         # not an object
    json.dumps({"videos": {"file": "a.mp4"}}),                        # not a list
    json.dumps({"photos": "p.jpg"}),
    json.dumps({"photos": [{"file": "p.jpg", "label": "Thumbs Up"}]}),  # not a snake_case label
    json.dumps({"photos": [{"file": "p.jpg", "label": 3}]}),
    json.dumps({"photos": [{"file": "p.jpg"}]}),                      # no label
    json.dumps({"landmarks": [{"label": "fist"}]}),                   # no file
    json.dumps({"photos": [{"file": "", "label": "fist"}]}),
    json.dumps({"videos": [{"file": "a.mp4", "sequence": [{"label": "swipe-left", "frames": [1, 2]}]}]}),
    json.dumps({"videos": [{"file": "a.mp4", "allowed": ["Open"]}]}),
    json.dumps({"videos": [{"file": "a.mp4", "fps": -15}]}),
    json.dumps({"videos": [{"file": "a.mp4", "fps": "fast"}]}),
    json.dumps({"videos": [{"file": "a.mp4", "sequence": [{"label": "fist", "frames": ["a", 2]}]}]}),
    json.dumps({"keypoint_tables": [{"file": "k.csv", "labels": {"0": "Open"}}]}),
    json.dumps({"keypoint_tables": [{"file": "k.csv"}]}),
])
def test_malformed_manifest_is_bad_input(tmp_path, text):
    with pytest.raises(BadInput):
        read_manifest(_write_manifest(tmp_path, text))


@pytest.mark.parametrize("text", [
    json.dumps({"videos": ["a.mp4"]}),                                          # an item that is no object
    json.dumps({"videos": [{"file": "a.mp4", "sequence": ["swipe_left"]}]}),    # a segment that is no object
    json.dumps({"videos": [{"file": "a.mp4", "sequence": "swipe_left"}]}),
    '{"videos": [{"file": "a.mp4", "sequence": [{"label": "fist", "frames": [1e400, 2]}]}]}',  # inf frame
], ids=["video-a-string", "segment-a-string", "sequence-a-string", "infinite-frame"])
def test_manifest_items_of_the_wrong_type_are_bad_input_not_a_crash(tmp_path, text):
    with pytest.raises(BadInput):
        read_manifest(_write_manifest(tmp_path, text))


def test_missing_manifest_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="manifest.json"):
        read_manifest(tmp_path)
    with pytest.raises(BadInput):
        read_manifest(tmp_path / "absent")


# --- landmark text protos -----------------------------------------------------------------------

def _pbtxt(points, label: str = "Left", score: float = 0.97) -> str:
    """MediaPipe's layout: the handedness, then the image landmarks, then the world landmarks."""
    head = ("classifications {\n  classification {\n    index: 1\n    score: %s\n    label: \"%s\"\n"
            "    display_name: \"%s\"\n  }\n}\n\n" % (score, label, label))
    body = "".join(f"  landmark {{\n    x: {x}\n    y: {y}\n    z: {z}\n  }}\n" for x, y, z in points)
    world = "".join(f"  landmark {{\n    x: {-0.01 * j}\n    y: 0.02\n    z: 0.0\n  }}\n" for j in range(len(points)))
    return head + "landmarks {\n" + body + "}\n\nworld_landmarks {\n" + world + "}\n"


POINTS = [(0.5 + 0.01 * j, 0.7 - 0.02 * j, -0.001 * j) for j in range(21)]


def test_pbtxt_gives_the_first_21_landmarks_and_the_handedness(tmp_path):
    path = tmp_path / "hand_landmarks.pbtxt"
    points = [*POINTS[:3], ("1.5e-1", "6.25E-01", "-3.4e-07"), (".25", "0.5", "-0"), *POINTS[5:]]
    path.write_text(_pbtxt(points, "Left", 0.97))
    skeleton = read_landmarks_pbtxt(path)
    assert skeleton.image.shape == (21, 3) and skeleton.image.dtype == np.float32
    expected = np.array([[float(v) for v in p] for p in points], np.float32)
    assert np.allclose(skeleton.image, expected)  # the image landmarks, not the world landmarks after them
    assert skeleton.handedness == "Left" and skeleton.score == pytest.approx(0.97)


def test_pbtxt_without_handedness_reads_as_right_with_no_confidence(tmp_path):
    path = tmp_path / "h.pbtxt"
    text = _pbtxt(POINTS)
    path.write_text(text[text.index("landmarks {"):])  # no classification block
    skeleton = read_landmarks_pbtxt(path)
    assert skeleton.handedness == "Right" and skeleton.score == 0.0 and np.allclose(skeleton.image, POINTS)


@pytest.mark.parametrize("points", [
    POINTS[:20],                                            # too few
    [*POINTS[:5], ("1e999", 0.5, 0.0), *POINTS[6:]],        # overflows to inf
    [*POINTS[:5], (35.0, 0.5, 0.0), *POINTS[6:]],           # not a normalised image coordinate
])
def test_damaged_pbtxt_is_bad_input(tmp_path, points):
    path = tmp_path / "bad.pbtxt"
    text = _pbtxt(points)
    path.write_text(text.split("world_landmarks")[0])  # no world landmarks to make up the count
    with pytest.raises(BadInput):
        read_landmarks_pbtxt(path)


def test_missing_or_binary_pbtxt_is_bad_input(tmp_path):
    with pytest.raises(BadInput):
        read_landmarks_pbtxt(tmp_path / "absent.pbtxt")
    (tmp_path / "bin.pbtxt").write_bytes(b"\xff\xfe\x00landmark {")
    with pytest.raises(BadInput):
        read_landmarks_pbtxt(tmp_path / "bin.pbtxt")


# --- keypoint tables ----------------------------------------------------------------------------

def _row(label: str, seed: int) -> list[str]:
    values = np.random.default_rng(seed).uniform(-1, 1, 42)
    values[:2] = 0.0
    return [label, *(repr(float(v)) for v in values)]


def _write_table(path: Path, rows: list[list[str]]) -> None:
    text = "\r\n".join(",".join(r) for r in rows) + "\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # UTF-8 BOM and CRLF, as the real tables


def test_table_with_bom_and_crlf_reads_and_skips_unlisted_ids(tmp_path):
    rows = [_row("0", 1), _row("1", 2), _row("3", 3), _row("0", 4)]
    _write_table(tmp_path / "keypoint.csv", rows + [[""]])
    points, labels = read_table(KeypointTable(tmp_path / "keypoint.csv", {"0": "open_palm", "1": "fist"}))
    assert labels == ["open_palm", "fist", "open_palm"]  # the first row's id despite the BOM; id 3 skipped
    assert points.shape == (3, 21, 2) and points.dtype == np.float32
    expected = np.array([[float(v) for v in r[1:]] for r in (rows[0], rows[1], rows[3])], np.float32)
    assert np.allclose(points.reshape(3, 42), expected)


def test_point_history_rows_are_16_positions(tmp_path):
    _write_table(tmp_path / "point_history.csv", [["1", *["0.5"] * 32], ["2", *["0.1"] * 32]])
    points, labels = read_table(KeypointTable(tmp_path / "point_history.csv", {"1": "rotate_cw"}, "point_history"))
    assert points.shape == (1, 16, 2) and labels == ["rotate_cw"] and np.allclose(points, 0.5)


def test_table_with_no_listed_rows_is_empty_or_bad_input(tmp_path):
    _write_table(tmp_path / "k.csv", [_row("5", 1)])
    try:
        points, labels = read_table(KeypointTable(tmp_path / "k.csv", {"0": "fist"}))
    except BadInput:
        return  # a clear refusal is fine too; a crash is not
    assert points.shape == (0, 21, 2) and labels == []


@pytest.mark.parametrize("bad", [
    ["0", *["0.1"] * 41],          # a short row
    ["0", *["0.1"] * 40, "x", "0.1"],  # not a number
    ["0", *["0.1"] * 41, "nan"],  # not finite
])
def test_damaged_table_is_bad_input(tmp_path, bad):
    _write_table(tmp_path / "k.csv", [_row("0", 1), bad])
    with pytest.raises(BadInput):
        read_table(KeypointTable(tmp_path / "k.csv", {"0": "fist"}))


def test_missing_table_is_bad_input(tmp_path):
    with pytest.raises(BadInput):
        read_table(KeypointTable(tmp_path / "absent.csv", {"0": "fist"}))


def test_table_hands_put_the_wrist_in_place_and_mirror_x_back_to_the_camera_view():
    rows = np.zeros((2, 21, 2), np.float32)
    rows[:, 9] = (0.0, -1.0)   # middle MCP straight up, the largest offset
    rows[:, 4] = (0.5, 0.0)    # thumb tip to the right in the selfie view
    rows[1] *= 0.5
    image = table_hands(rows)
    width, height = TABLE_FRAME
    assert image.shape == (2, 21, 3) and image.dtype == np.float32 and not image[..., 2].any()
    assert np.allclose(image[:, 0, :2], (1.0 - TABLE_WRIST[0], TABLE_WRIST[1]))
    assert np.allclose(image[0, 9, 1], TABLE_WRIST[1] - TABLE_HAND_SPAN)  # a row's span of the frame height
    assert np.allclose(image[0, 9, 0], image[0, 0, 0])
    thumb_px = (image[0, 4, 0] - image[0, 0, 0]) * width
    assert thumb_px == pytest.approx(-0.5 * TABLE_HAND_SPAN * height, rel=1e-4)  # selfie right = camera left
    assert np.allclose(image[1, :, :2] - image[1, 0, :2], 0.5 * (image[0, :, :2] - image[0, 0, :2]), atol=1e-6)


@pytest.mark.parametrize("block", [50, 7])
def test_split_alternates_blocks_of_one_label_and_covers_every_row(block):
    labels = ["fist"] * 130 + ["open_palm"] * 3 + ["fist"] * 61 + ["pointing_up"] * 50
    train, held = table_split(labels, block=block)
    assert len(np.intersect1d(train, held)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, held])), np.arange(len(labels)))
    blocks = contiguous_blocks(labels, block=block)
    assert np.array_equal(np.concatenate(blocks), np.arange(len(labels)))
    for k, b in enumerate(blocks):
        assert 1 <= len(b) <= block and len({labels[i] for i in b}) == 1
        assert np.array_equal(b, np.arange(b[0], b[-1] + 1))  # contiguous
        assert np.isin(b, train if k % 2 == 0 else held).all()
    # a run of one label is cut only where it reaches ``block`` rows: only a run's last block may be short
    runs = (130, 3, 61, 50)
    assert len(blocks) == sum(-(-r // block) for r in runs)
    assert sum(len(b) < block for b in blocks) == sum(r % block != 0 for r in runs)
    assert table_split([], block=block)[0].size == 0 and table_split([], block=block)[1].size == 0


# --- the development set ------------------------------------------------------------------------

def test_development_set_manifest_and_tables(real_data):
    m = read_manifest(real_data)
    assert len(m.videos) == 4 and len(m.photos) == 1 and len(m.landmarks) == 6
    assert all(v.path.is_file() for v in m.videos) and all(p.path.is_file() for p in m.photos)
    tables = {t.path.name: t for t in m.tables}
    points, labels = read_table(tables["keypoint.csv"])
    assert points.shape == (4450, 21, 2)
    assert [labels.count(name) for name in ("open_palm", "fist", "pointing_up")] == [1522, 1572, 1356]
    assert np.allclose(points[:, 0], 0.0) and np.allclose(np.abs(points).max(axis=(1, 2)), 1.0, atol=1e-6)
    ok, ok_labels = read_table(tables["keypoint_ok.csv"])
    assert ok.shape == (337, 21, 2) and set(ok_labels) == {"no_gesture"}
    assert tables["point_history.csv"].kind == "point_history"
    train, held = table_split(labels)
    assert len(train) + len(held) == 4450 and abs(len(train) - len(held)) < 200


def test_development_set_landmark_files(real_data):
    m = read_manifest(real_data)
    assert sorted(p.label for p in m.landmarks) == ["fist", "pointing_up", "pointing_up", "thumbs_up", "thumbs_up",
                                                   "victory"]
    for still in m.landmarks:
        skeleton = read_landmarks_pbtxt(still.path)
        assert skeleton.image.shape == (21, 3) and np.isfinite(skeleton.image).all()
        assert skeleton.handedness == "Right" and skeleton.score > 0.5
        assert ((skeleton.image[:, :2] > 0) & (skeleton.image[:, :2] < 1)).all()  # image landmarks, not world
