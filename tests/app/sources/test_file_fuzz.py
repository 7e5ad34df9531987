"""Fuzzing RealSense recordings and video files: a damaged file plays (maybe fewer frames) or is one
BadInput line; never a traceback, a crash or a hang.

Every file is opened in a child process (``isolated_open``), because the RealSense SDK and FFmpeg are
native code: before the fixes, a damaged ``.db3`` took the whole process down (SIGSEGV) or made
``load_device`` spin forever with the GIL held. The recordings are written at test time by the SDK
(``tests/app/rs_fixtures.py``), the videos by OpenCV.
"""

import shutil
import sqlite3

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.sources.isolated_open import IsolatedOpener

FRAMES = 4  # of each stream in the recording
VIDEO_FRAMES = 12


def fuzz(examples: int) -> settings:
    """Reproducible and bounded for CI: fixed examples, no deadline on a loaded machine, no database."""
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def opener():
    opener = IsolatedOpener(reply_timeout_s=30.0, probe_timeout_s=3.0)
    yield opener
    opener.close()


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    pytest.importorskip("pyrealsense2")
    from tests.app.rs_fixtures import write_recording

    return write_recording(tmp_path_factory.mktemp("rs") / "good.db3", frames=FRAMES, depth_size=(32, 24),
                           color_size=(32, 24))


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    import cv2

    folder = tmp_path_factory.mktemp("video")
    out = {}
    for name, codec in (("good.mp4", "mp4v"), ("good.avi", "MJPG")):
        writer = cv2.VideoWriter(str(folder / name), cv2.VideoWriter_fourcc(*codec), 25.0, (64, 48))
        assert writer.isOpened(), f"OpenCV cannot write {name} here"
        for k in range(VIDEO_FRAMES):
            frame = np.zeros((48, 64, 3), np.uint8)
            frame[8:24, 4 * k:4 * k + 16] = (40, 200, 90)  # a moving square
            writer.write(frame)
        writer.release()
        out[name] = folder / name
    return out


def assert_clean(reply: dict, path, *, most: int) -> None:
    """Played (at most ``most`` samples) or refused with one line naming the file."""
    assert reply["outcome"] in ("ok", "bad"), f"{path}: {reply}"
    if reply["outcome"] == "bad":
        message = reply["message"]
        assert str(path) in message and "\n" not in message and "Traceback" not in message, message
    assert reply["samples"] <= most


@st.composite
def damaged_bytes(draw, data: bytes) -> bytes:
    out = bytearray(data)
    kind = draw(st.sampled_from(["truncate", "flip", "zero"]))
    if kind == "truncate":
        return bytes(out[: draw(st.integers(0, len(out) - 1))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            out[draw(st.integers(0, len(out) - 1))] ^= 1 << draw(st.integers(0, 7))
        return bytes(out)
    at, size = draw(st.integers(0, len(out) - 1)), draw(st.integers(1, 512))
    out[at:at + size] = bytes(len(out[at:at + size]))
    return bytes(out)


# --- RealSense recordings ---------------------------------------------------------------------------

def test_the_undamaged_recording_plays_whole(opener, recording):
    assert opener.open(recording) == {"outcome": "ok", "samples": 2 * FRAMES, "recovery": None}


@fuzz(25)
@given(data=st.data())
def test_damaged_recording_bytes_play_or_fail_in_one_line(opener, recording, tmp_path_factory, data):
    path = tmp_path_factory.getbasetemp() / "damaged.db3"
    path.write_bytes(data.draw(damaged_bytes(recording.read_bytes())))
    assert_clean(opener.open(path), path, most=2 * FRAMES)


@st.composite
def table_edit(draw):
    """One edit of the recording's tables through SQLite (the file stays a valid database)."""
    kind = draw(st.sampled_from(["topic", "body", "time"]))
    row = draw(st.integers(1, 40))
    if kind == "topic":
        value = draw(st.sampled_from(["/zzz", "", "/device_0/sensor_9/info", "/device_0/sensor_0/option/X/value"])
                     | st.text(max_size=12))
        return "UPDATE topics SET name = ? WHERE id = ?", (value, row % 23 + 1)
    if kind == "body":
        body = draw(st.binary(max_size=64) | st.sampled_from([b"", b"\xff\xff\xff\x7f" * 4]))
        return "UPDATE messages SET data = ? WHERE id = ?", (body, row)
    value = draw(st.sampled_from([-1, 0, 2**62, -2**63, 10**18]) | st.integers(-2**63, 2**63 - 1))
    return "UPDATE messages SET timestamp = ? WHERE id = ?", (value, row)


@fuzz(25)
@given(edit=table_edit())
def test_damaged_recording_tables_play_or_fail_in_one_line(opener, recording, tmp_path_factory, edit):
    path = tmp_path_factory.getbasetemp() / "edited.db3"
    shutil.copy(recording, path)
    with sqlite3.connect(path) as con:
        con.execute(*edit)
    con.close()
    assert_clean(opener.open(path), path, most=2 * FRAMES)


def _crafted(recording, folder, name, *sql):
    path = folder / name
    shutil.copy(recording, path)
    con = sqlite3.connect(path)
    con.executescript(";\n".join(sql))
    con.commit()
    con.close()
    return path


def test_recordings_that_crashed_or_hung_the_sdk_are_one_line(opener, recording, tmp_path):
    """Each was a SIGSEGV, an endless ``load_device`` or a traceback before (found by fuzzing)."""
    cases = {
        "a topic row of NULLs (SIGSEGV)": (_crafted(
            recording, tmp_path, "null.db3",
            "ALTER TABLE topics RENAME TO old",
            "CREATE TABLE topics(id INTEGER PRIMARY KEY, name TEXT, type TEXT, serialization_format TEXT, "
            "offered_qos_profiles TEXT)",
            "INSERT INTO topics SELECT * FROM old", "DROP TABLE old",
            "INSERT INTO topics VALUES (0, NULL, NULL, NULL, NULL)"), "empty or foreign field"),
        "an option the SDK does not know (hang)": (_crafted(
            recording, tmp_path, "option.db3",
            "UPDATE topics SET name = '/device_0/sensor_1/option/Framer_Queue_Size/value' WHERE id = 13"),
            "an option this RealSense SDK does not know"),
        "a message of no topic (hang)": (_crafted(
            recording, tmp_path, "orphan.db3", "UPDATE messages SET topic_id = 99 WHERE id = 2"),
            "foreign topic"),
        "a stream's info topic renamed (hang)": (_crafted(
            recording, tmp_path, "renamed.db3", "UPDATE topics SET name = '/zzz' WHERE id = 2"),
            "did not finish opening it"),
        "an index name that is not UTF-8 (UnicodeDecodeError in the check itself)": (_crafted(
            recording, tmp_path, "latin.db3", "PRAGMA writable_schema = ON",
            "UPDATE sqlite_master SET name = CAST(x'74696d657374e16d705f696478' AS TEXT) WHERE type = 'index'"),
            "not UTF-8 text"),
        "a topic name that is not UTF-8": (_crafted(
            recording, tmp_path, "topic.db3", "UPDATE topics SET name = CAST(x'2fe16d' AS TEXT) WHERE id = 6"),
            "UTF-8"),
        "a static message at 2^62 ns (hang)": (_crafted(
            recording, tmp_path, "late.db3", "UPDATE messages SET timestamp = 4611686018427387904 WHERE id = 9"),
            "did not finish opening it"),
    }
    for case, (path, message) in cases.items():
        reply = opener.open(path)
        assert reply["outcome"] == "bad" and message in reply["message"], f"{case}: {reply}"
        assert "\n" not in reply["message"]


# --- video files ------------------------------------------------------------------------------------

def test_the_undamaged_videos_play_whole(opener, videos):
    for path in videos.values():
        assert opener.open(path) == {"outcome": "ok", "samples": VIDEO_FRAMES, "recovery": None}


@fuzz(40)
@given(name=st.sampled_from(["good.mp4", "good.avi"]), data=st.data())
def test_damaged_videos_play_or_fail_in_one_line(opener, videos, tmp_path_factory, name, data):
    path = tmp_path_factory.getbasetemp() / f"damaged{videos[name].suffix}"
    path.write_bytes(data.draw(damaged_bytes(videos[name].read_bytes())))
    assert_clean(opener.open(path), path, most=VIDEO_FRAMES + 2)
