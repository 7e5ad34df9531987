import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from fusion.data.recording import format as fmt
from fusion.data.recording import RecordingReader, RecordingWriter
from fusion.data.sample import Skeleton
from fusion.errors import BadInput
from tests.conftest import ROOT

H, W = 24, 32


def color(i: int) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return np.stack([(xx * 8 + i) % 256, yy * 10, np.full_like(xx, 100 + i)], -1).astype(np.uint8)


def depth(i: int) -> np.ndarray:
    rng = np.random.default_rng(i)
    return rng.integers(0, 65535, (H, W), dtype=np.uint16)  # full 16-bit range, noisy


def hand(i: int, world: bool = True) -> Skeleton:
    rng = np.random.default_rng(100 + i)
    return Skeleton(image=rng.random((21, 3), dtype=np.float32),
                          world=rng.random((21, 3), dtype=np.float32) if world else None,
                          handedness="Left" if i % 2 else "Right", score=0.75)


def write_sample(path, n=5, **kw):
    with RecordingWriter(path, meta={"device": {"name": "test"}}, **kw) as rec:
        rec.set_stream("color", {"width": W, "height": H, "fps": 15.0, "intrinsics": {"fx": 30.5}})
        rec.set_stream("depth", {"width": W, "height": H, "fps": 30.0, "depth_scale": 0.001})
        rec.set_stream("audio", {"rate": 16000})
        for i in range(n):
            t = 1_000_000 + i * 33_000_000
            rec.write("color", color(i), index=i, host_ns=t, device_ms=i * 33.3)
            rec.write("depth", depth(i), index=i, host_ns=t + 1)
            rec.write("skeleton", hand(i, world=i % 3 != 0) if i != 2 else None, index=i, host_ns=t + 2)
            rec.write("audio", np.linspace(-1, 1, 160, dtype=np.float32) * (i + 1) / n, index=i, host_ns=t + 3)
        rec.add_label("swipe_left", start_ns=1_000_000, end_ns=70_000_000)
        rec.add_label("fist", start_ns=80_000_000, end_ns=90_000_000)
    return path


def test_round_trip_every_stream(tmp_path):
    path = write_sample(tmp_path / "a.mmtm", lossless=True)
    with RecordingReader(path) as rec:
        assert rec.complete and rec.recovery.startswith("complete")
        assert len(rec) == 20 and rec.counts() == {"color": 5, "depth": 5, "skeleton": 5, "audio": 5}
        assert rec.meta["device"] == {"name": "test"} and rec.meta["format"] == "mmtm-recording"
        assert rec.streams["depth"]["depth_scale"] == 0.001 and rec.streams["color"]["intrinsics"] == {"fx": 30.5}
        assert [(s.label, s.start_ns, s.end_ns) for s in rec.labels] == [
            ("swipe_left", 1_000_000, 70_000_000), ("fist", 80_000_000, 90_000_000)]
        frames = list(rec.frames())
        for i in range(5):
            c, d, s, a = frames[4 * i: 4 * i + 4]
            assert (c.stream, c.index, c.host_ns, c.device_ms) == ("color", i, 1_000_000 + i * 33_000_000, i * 33.3)
            np.testing.assert_array_equal(c.data, color(i))  # lossless PNG
            assert d.data.dtype == np.uint16 and d.device_ms is None
            np.testing.assert_array_equal(d.data, depth(i))
            if i == 2:
                assert s.data is None
            else:
                np.testing.assert_array_equal(s.data.image, hand(i).image)
                assert (s.data.world is None) == (i % 3 == 0)
                if s.data.world is not None:
                    np.testing.assert_array_equal(s.data.world, hand(i).world)
                assert s.data.handedness == ("Left" if i % 2 else "Right") and s.data.score == 0.75
            np.testing.assert_array_equal(a.data, np.linspace(-1, 1, 160, dtype=np.float32) * (i + 1) / 5)
        # random access and stream filter
        assert rec.frame(9).stream == "depth" and rec.frame(9).index == 2
        assert [f.index for f in rec.frames(["depth"])] == list(range(5))


def test_jpeg_default_is_close_and_small(tmp_path):
    path = write_sample(tmp_path / "j.mmtm")
    with RecordingReader(path) as rec:
        c = rec.frame(0).data
        assert c.shape == (H, W, 3) and c.dtype == np.uint8
        assert np.abs(c.astype(int) - color(0)).mean() < 6
        assert rec.meta["codecs"]["color"] == "jpeg"


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        RecordingReader(tmp_path / "nope.mmtm")
    (tmp_path / "x.mmtm").write_bytes(b"hello world, not a recording")
    with pytest.raises(BadInput, match="not an mmtm recording"):
        RecordingReader(tmp_path / "x.mmtm")
    (tmp_path / "y.mmtm").write_bytes(fmt.MAGIC[:3])
    with pytest.raises(BadInput, match="truncated"):
        RecordingReader(tmp_path / "y.mmtm")
    with pytest.raises(BadInput, match="folder"):
        RecordingReader(tmp_path)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_reads_up_to_last_complete_chunk(tmp_path, keep):
    data = write_sample(tmp_path / "a.mmtm").read_bytes()
    cut = tmp_path / "cut.mmtm"
    cut.write_bytes(data[: int(len(data) * keep)])
    with RecordingReader(cut) as rec:
        assert not rec.complete
        assert "recovered" in rec.recovery and "cut short" in rec.recovery
        n = len(rec)
        assert 0 < n < 20
        for i, f in enumerate(rec.frames()):  # every recovered frame decodes and is in order
            assert f.index == i // 4
        assert rec.skipped == 0


def test_truncated_before_first_frame_is_bad_input(tmp_path):
    data = write_sample(tmp_path / "a.mmtm").read_bytes()
    cut = tmp_path / "cut.mmtm"
    cut.write_bytes(data[:60])
    with pytest.raises(BadInput, match="no readable frame"):
        RecordingReader(cut)


def test_corrupt_frame_is_skipped_and_reported(tmp_path):
    path = write_sample(tmp_path / "a.mmtm")
    with RecordingReader(path) as rec:
        offset = int(rec.table["offset"][5])
    data = bytearray(path.read_bytes())
    data[offset + fmt.HEADER.size + 40] ^= 0xFF  # inside frame 5's payload
    # with the index intact: random access to frame 5 is a clear error, iteration skips it
    path.write_bytes(bytes(data))
    with RecordingReader(path) as rec:
        assert rec.complete and len(rec) == 20
        with pytest.raises(BadInput, match="frame 5 .*damaged"):
            rec.frame(5)
        assert len(list(rec.frames())) == 19 and rec.skipped == 1
    # without the index (damaged tail): the scan skips the frame and says so
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with RecordingReader(path) as rec:
        assert not rec.complete and len(rec) == 19
        assert "1 damaged chunks skipped" in rec.recovery


def test_damaged_chunk_header_is_passed_over(tmp_path):
    path = write_sample(tmp_path / "a.mmtm")
    with RecordingReader(path) as rec:
        offset = int(rec.table["offset"][8])
    data = bytearray(path.read_bytes())
    data[offset + 4] ^= 0xFF  # length field of frame 8
    data = data[:-10]  # and no valid tail
    path.write_bytes(bytes(data))
    with RecordingReader(path) as rec:  # the walk finds the next sound header: only frame 8 is lost
        assert len(rec) == 19 and "1 damaged stretches" in rec.recovery
        assert [(f.stream, f.index) for f in rec.frames()][7:9] == [("audio", 1), ("depth", 2)]
    data[offset + 4:] = b"\0" * (len(data) - offset - 4)  # nothing sound after the damage: the walk stops
    path.write_bytes(bytes(data))
    with RecordingReader(path) as rec:
        assert len(rec) == 8 and "damaged chunk header" in rec.recovery


def test_bad_values_are_refused(tmp_path):
    with RecordingWriter(tmp_path / "v.mmtm") as rec:
        with pytest.raises(ValueError, match="uint16"):
            rec.write("depth", np.zeros((4, 4), np.float32), index=0, host_ns=0)
        with pytest.raises(ValueError, match="unknown stream"):
            rec.write("thermal", np.zeros((4, 4), np.uint8), index=0, host_ns=0)
        with pytest.raises(ValueError, match="RGB"):
            rec.write("color", np.zeros((4, 4), np.uint8), index=0, host_ns=0)
    with pytest.raises(BadInput, match="cannot write"):
        RecordingWriter(tmp_path / "missing-dir" / "v.mmtm")


KILL_WRITER = """
import sys, numpy as np
from fusion.data.recording import RecordingWriter
rec = RecordingWriter(sys.argv[1], flush_s=0.0)
rec.set_stream("depth", {"width": 32, "height": 24})
i = 0
while True:
    rec.write("depth", np.full((24, 32), i % 65536, np.uint16), index=i, host_ns=i)
    rec.write("color", np.full((24, 32, 3), i % 256, np.uint8), index=i, host_ns=i)
    if i == 20:
        print("ready", flush=True)
    i += 1
"""


def test_writer_killed_with_sigkill_reads_back(tmp_path):
    path = tmp_path / "killed.mmtm"
    proc = subprocess.Popen([sys.executable, "-c", KILL_WRITER, str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    with RecordingReader(path) as rec:
        assert not rec.complete and len(rec) > 40
        assert rec.streams["depth"] == {"width": 32, "height": 24}
        for n, f in enumerate(rec.frames()):
            assert f.index == n // 2
            if f.stream == "depth":
                assert int(f.data[0, 0]) == n // 2
            else:  # JPEG of a flat image: within a step or two
                assert abs(int(f.data[0, 0, 0]) - (n // 2) % 256) <= 2
        assert rec.skipped == 0


def test_writer_never_replaces_an_existing_file(tmp_path):
    path = write_sample(tmp_path / "a.mmtm")
    before = path.read_bytes()
    with pytest.raises(BadInput, match="already exists"):
        RecordingWriter(path)
    assert path.read_bytes() == before
    RecordingWriter(path, overwrite=True).close()
    with RecordingReader(path) as rec:
        assert len(rec) == 0 and rec.complete
