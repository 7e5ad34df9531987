"""Crafted ``.mmtm`` files whose chunks pass their checksums but hold bad values (issue #18, items 3,
6, 7, 8): each is read with an honest recovery line or refused with BadInput, never another error."""

import os

import numpy as np
import pytest

from fusion.data.recording import RecordingReader, RecordingWriter
from fusion.data.recording import format as fmt
from fusion.errors import BadInput
from tests.conftest import in_thread
from tests.fusion.data.recording.crafted import crafted, png_header_only, read_or_refuse

CASES = crafted()
GOOD_FRAMES = 12  # the frames of small_recording()


@pytest.fixture
def write(tmp_path):
    def write_case(name: str):
        path = tmp_path / f"{name}.mmtm"
        path.write_bytes(CASES[name][0])
        return path
    return write_case


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_crafted_file_is_read_honestly_or_refused(write, name):
    read = read_or_refuse(write(name))
    expect = CASES[name][1]
    if expect == "refuse":
        assert read is None
    elif expect == "frames":
        assert read is not None and len(read["frames"]) >= GOOD_FRAMES - 1


@pytest.mark.parametrize("name, lost", [
    ("label_without_label", "1 label segment (no label)"),
    ("label_start_null", "1 label segment (times None..2 are not integers)"),
    ("label_ends_before_start", "1 label segment (it ends before it starts)"),
    ("meta_nested_100000", "1 metadata chunk (JSON nested too deeply)"),
    ("meta_nested_40", "1 metadata chunk (JSON nested deeper than 32)"),
])
def test_bad_labels_and_metadata_are_dropped_and_named(write, name, lost):
    read = read_or_refuse(write(name))
    assert len(read["frames"]) == GOOD_FRAMES
    assert [s.label for s in read["labels"]] == ["fist"]  # the sound label stays
    assert f"lost: {lost}" in read["recovery"]


@pytest.mark.parametrize("name, field", [("stream_fps_fast", "fps"), ("stream_width_infinity", "width"),
                                         ("stream_width_huge", "width")])
def test_bad_stream_fields_are_dropped_the_rest_kept(write, name, field):
    read = read_or_refuse(write(name))
    assert field not in read["streams"]["color"] and f"color stream {field}" in read["recovery"]
    if field == "fps":  # the rest of the description stays
        assert read["streams"]["color"]["width"] == 16 and read["streams"]["color"]["height"] == 12
    else:  # a size is a pair: both go
        assert "height" not in read["streams"]["color"]
    assert len(read["frames"]) == GOOD_FRAMES


def test_a_source_over_a_bad_stream_description_opens(write):
    from app.sources.recording import RecordingConfig, RecordingSource

    source = RecordingSource(RecordingConfig(path=str(write("stream_fps_fast"))), sink=lambda s: None)
    assert source.stream_info["color"].fps == 0.0 and source.stream_info["color"].width == 16


@pytest.mark.parametrize("name", ["skeleton_body_shorter_than_header", "skeleton_nan", "skeleton_inf_world",
                                  "skeleton_huge", "skeleton_nan_score"])
def test_bad_skeleton_frames_are_skipped_never_non_finite(write, name):
    read = read_or_refuse(write(name))
    skeletons = [f.data for f in read["frames"] if f.stream == "skeleton"]
    assert len(skeletons) == 3 and all(np.isfinite(s.image).all() for s in skeletons)
    assert "1 damaged frame skipped (first: skeleton" in read["recovery"]


def test_one_damaged_metadata_chunk_loses_only_the_metadata(write):
    read = read_or_refuse(write("meta_damaged_checksum"))
    assert read["complete"] and len(read["frames"]) == GOOD_FRAMES and [s.label for s in read["labels"]] == ["fist"]
    assert "lost: 1 metadata chunk (checksum mismatch)" in read["recovery"]
    assert "device" not in read["meta"] and read["streams"]["depth"]["depth_scale"] == 0.001
    with pytest.raises(BadInput, match="metadata chunk cannot be read and it holds no frame"):
        RecordingReader(write("meta_damaged_no_frames"))


@pytest.mark.parametrize("name, refused", [("png_bomb_declared_size", 1), ("png_bombs_undeclared_size", 3),
                                           ("jpeg_bomb", 1), ("jpeg_wrong_size", 1), ("png_rgba_color", 1),
                                           ("depth_as_jpeg", 1), ("bmp_in_png_codec", 1)])
def test_image_bombs_are_refused_before_they_are_decoded(write, monkeypatch, name, refused):
    import cv2

    decoded = []
    real = cv2.imdecode

    def imdecode(buf, flags):
        image = real(buf, flags)
        decoded.append(None if image is None else image.shape)
        return image

    monkeypatch.setattr(cv2, "imdecode", imdecode)
    read = read_or_refuse(write(name))
    assert len(read["frames"]) == GOOD_FRAMES and read["skipped"] == refused
    assert decoded and all(s is not None and s[:2] == (12, 16) for s in decoded)  # only the sound images were


def test_image_size_reads_the_headers():
    assert fmt.image_size(fmt.PNG, png_header_only(20000, 300)) == (20000, 300)
    jpeg = fmt._jpeg(np.zeros((7, 9, 3), np.uint8), 90)
    assert fmt.image_size(fmt.JPEG, jpeg) == (9, 7)
    progressive = bytes(jpeg).replace(b"\xff\xc0", b"\xff\xc2", 1)  # SOF2 reads the same way
    assert fmt.image_size(fmt.JPEG, progressive) == (9, 7)
    for bad in (b"", b"\xff\xd8", b"\xff\xd8\xff\xda\x00\x02", b"BM" + b"\0" * 40, png_header_only(4, 4)[:20]):
        with pytest.raises(ValueError):
            fmt.image_size(fmt.JPEG if bad.startswith(b"\xff") else fmt.PNG, bad)
    with pytest.raises(ValueError, match="at most 4096x4096"):
        fmt.decode_body(fmt.PNG, png_header_only(20000, 20000), stream="depth")
    with pytest.raises(ValueError, match="in a stream of 16x12"):
        fmt.decode_body(fmt.PNG, png_header_only(32, 12), stream="depth", size=(16, 12))


def test_a_repeating_index_is_not_trusted(write):
    read = read_or_refuse(write("index_repeats_a_frame"))
    assert len(read["frames"]) == GOOD_FRAMES and not read["complete"]
    assert read["recovery"].startswith("its index is damaged, read by scanning")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_for_reading_and_writing_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.mmtm"
    os.mkfifo(fifo)
    done, error = in_thread(lambda: RecordingReader(fifo))
    assert done and isinstance(error, BadInput) and "not a regular file" in str(error)
    done, error = in_thread(lambda: RecordingWriter(fifo, overwrite=True))
    assert done and isinstance(error, BadInput) and "not a regular file" in str(error)
    done, error = in_thread(lambda: RecordingWriter(fifo))
    assert done and isinstance(error, BadInput) and "already exists" in str(error)
    assert fifo.is_fifo()  # left as it was
    with pytest.raises(BadInput, match="not a regular file"):
        RecordingReader("/dev/zero")


def test_training_clips_from_hostile_recordings_are_finite_or_refused(write, tmp_path):
    from fusion.data.recording.clips import recording_clips
    from fusion.preprocess import InputSpec

    spec = InputSpec(width=16, height=12, window=4)
    for name in ("skeleton_nan", "skeleton_huge", "label_start_null", "meta_damaged_checksum"):
        clips = recording_clips([write(name)], labels=("no_gesture", "fist"), spec=spec, frames=4)
        assert all(np.isfinite(a).all() for a in (clips.rgb, clips.depth, clips.skeleton))
        assert [("no_gesture", "fist")[i] for i in clips.label][:1] == ["fist"]
    path = tmp_path / "sizes.mmtm"  # a color stream without a declared size whose frames differ in size
    with RecordingWriter(path) as rec:
        for i, (h, w) in enumerate([(12, 16), (12, 16), (24, 32)]):
            rec.write("color", np.zeros((h, w, 3), np.uint8), index=i, host_ns=i * 10**8)
        rec.add_label("fist", start_ns=0, end_ns=10**8)
    with pytest.raises(BadInput, match="frames of one stream differ in size"):
        recording_clips([path], labels=("no_gesture", "fist"), spec=spec, frames=2)
