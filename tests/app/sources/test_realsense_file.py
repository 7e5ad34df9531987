"""RealSenseSource over real .db3 recordings written by the SDK at test time (tests/app/rs_fixtures.py)."""

import time

import numpy as np
import pytest

pytest.importorskip("pyrealsense2")

from app.sources.realsense import RealSenseConfig, RealSenseSource  # noqa: E402
from fusion.errors import BadInput  # noqa: E402
from tests.app.rs_fixtures import color_frame, depth_frame, write_recording  # noqa: E402


@pytest.fixture(scope="session")
def recordings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rs")
    return {
        "same": write_recording(folder / "same.db3", frames=6, depth_size=(64, 48), color_size=(64, 48), fps=30),
        "sizes": write_recording(folder / "sizes.db3", frames=4, depth_size=(64, 48), color_size=(96, 72), fps=15,
                                 depth_units=0.0001, color_format="bgr8"),
        "sparse_color": write_recording(folder / "sparse.db3", frames=9, fps=30, color_every=3),
        "gaps": write_recording(folder / "gaps.db3", frames=8, fps=30, skip=(3, 4)),
        "rates": write_recording(folder / "rates.db3", frames=8, fps=30, color_fps=15, color_size=(80, 60)),
        "offset": write_recording(folder / "offset.db3", frames=6, fps=30, color_offset_ms=4.0),
    }


def play(path, **kwargs):
    samples = []
    source = RealSenseSource(RealSenseConfig(path=str(path), real_time=False, **kwargs), sink=samples.append)
    source.start()
    source.join(timeout=10)
    assert source.finished.is_set()
    return source, samples


def by_stream(samples, stream):
    return [s for s in samples if s.stream == stream]


def test_every_frame_once_with_values_timestamps_and_order(recordings):
    source, samples = play(recordings["same"])
    colors, depths = by_stream(samples, "color"), by_stream(samples, "depth")
    assert [s.index for s in colors] == list(range(6))
    assert [s.index for s in depths] == list(range(6))
    assert [s.stream for s in samples] == ["color", "depth"] * 6  # each depth right after its color
    for k, (c, d) in enumerate(zip(colors, depths)):
        assert c.data.dtype == np.uint8 and c.data.shape == (48, 64, 3)
        np.testing.assert_array_equal(c.data, color_frame(k, 64, 48))
        assert d.data.dtype == np.uint16 and d.data.shape == (48, 64)
        # same size, intrinsics and identity extrinsics: alignment keeps the ramp where nothing
        # occludes (the ramp's row steps reorder a few pixels; 0 = no data)
        expected = depth_frame(k, 64, 48)
        valid = d.data > 0
        assert valid.mean() > 0.9
        assert (d.data[valid] == expected[valid]).mean() > 0.99
        assert np.isin(d.data[valid], expected).all()
        assert c.device_ms == pytest.approx(k * 1000 / 30, abs=1e-3)
        assert d.device_ms == pytest.approx(k * 1000 / 30, abs=1e-3)
        assert c.host_ns <= d.host_ns
    assert source.stats["drops"] == {"color": 0, "depth": 0}
    info = source.stream_info
    assert info["depth"].depth_scale == pytest.approx(0.001)
    assert (info["color"].width, info["color"].height, info["color"].fps) == (64, 48, 30.0)
    assert info["color"].intrinsics["fx"] == pytest.approx(64 * 0.9)


def test_depth_aligned_to_a_larger_bgr_color_image(recordings):
    source, samples = play(recordings["sizes"])
    colors, depths = by_stream(samples, "color"), by_stream(samples, "depth")
    assert len(colors) == len(depths) == 4
    for k, (c, d) in enumerate(zip(colors, depths)):
        np.testing.assert_array_equal(c.data, color_frame(k, 96, 72))  # bgr8 in the file, RGB out
        assert d.data.shape == (72, 96)  # resampled onto the color image
        raw = depth_frame(k, 64, 48)
        values = d.data[d.data > 0]
        assert values.size > 0.5 * d.data.size
        assert np.isin(values, raw).all()  # aligned depth only holds measured values
    info = source.stream_info
    assert info["depth"].depth_scale == pytest.approx(0.0001)
    assert (info["depth"].width, info["depth"].height) == (96, 72)
    assert info["depth"].intrinsics == info["color"].intrinsics
    assert info["color"].fps == 15.0


def test_color_at_a_third_of_the_depth_rate_is_not_double_counted(recordings):
    source, samples = play(recordings["sparse_color"])
    assert [s.index for s in by_stream(samples, "color")] == [0, 3, 6]
    assert [s.index for s in by_stream(samples, "depth")] == list(range(9))
    assert [s.data.shape for s in by_stream(samples, "depth")] == [(48, 64)] * 9
    paired = [(a.index, b.index) for a, b in zip(samples, samples[1:]) if a.stream == "color" and b.stream == "depth"]
    assert paired == [(0, 0), (3, 3), (6, 6)]
    # color frame numbers jump by 3 by design of this file: those count as color drops
    assert source.stats["drops"] == {"color": 4, "depth": 0}


def test_depth_at_30_and_color_at_15_fps(recordings):
    source, samples = play(recordings["rates"])
    colors, depths = by_stream(samples, "color"), by_stream(samples, "depth")
    assert [s.index for s in colors] == [0, 1, 2, 3]
    assert [s.index for s in depths] == list(range(8))
    assert [c.device_ms for c in colors] == pytest.approx([0.0, 66.667, 133.333, 200.0], abs=1e-3)
    positions = {id(s): i for i, s in enumerate(samples)}
    for c in colors:  # each color frame is followed by the depth frame of the same instant
        after = samples[positions[id(c)] + 1]
        assert after.stream == "depth" and after.device_ms == pytest.approx(c.device_ms, abs=1e-3)
    np.testing.assert_array_equal(colors[2].data, color_frame(4, 80, 60))
    assert {d.data.shape for d in depths} == {(60, 80)}
    assert source.stats["drops"] == {"color": 0, "depth": 0}
    assert (source.stream_info["color"].fps, source.stream_info["depth"].fps) == (15.0, 30.0)


def test_gaps_in_frame_numbers_count_as_drops(recordings):
    source, samples = play(recordings["gaps"])
    assert [s.index for s in by_stream(samples, "depth")] == [0, 1, 2, 5, 6, 7]
    assert source.stats["drops"] == {"color": 2, "depth": 2}


def test_color_and_depth_a_few_ms_apart_are_paired(recordings):
    _, samples = play(recordings["offset"])
    assert [(s.stream, s.index) for s in samples] == [(name, k) for k in range(6) for name in ("color", "depth")]


def test_playback_is_deterministic(recordings):
    _, first = play(recordings["sizes"])
    _, second = play(recordings["sizes"])
    assert [(s.stream, s.index, s.device_ms) for s in first] == [(s.stream, s.index, s.device_ms) for s in second]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.data, b.data)


def test_real_time_pacing_follows_device_timestamps(recordings):
    samples = []
    source = RealSenseSource(RealSenseConfig(path=str(recordings["same"]), real_time=True), sink=samples.append)
    source.start()
    source.join(timeout=10)
    span_s = (samples[-1].host_ns - samples[0].host_ns) / 1e9
    assert span_s >= 0.9 * 5 / 30  # six frames at 30 fps span 5 periods


def test_stop_ends_a_paced_playback_early(tmp_path):
    path = write_recording(tmp_path / "long.db3", frames=30, fps=5)  # 6 s in real time
    samples = []
    source = RealSenseSource(RealSenseConfig(path=str(path)), sink=samples.append)
    source.start()
    time.sleep(0.3)
    started = time.monotonic()
    source.stop()
    source.join(timeout=3)
    assert time.monotonic() - started < 1.5
    assert 0 < len(samples) < 60


def test_no_alignment_keeps_the_depth_size(recordings):
    source, samples = play(recordings["sizes"], align=False)
    assert {s.data.shape for s in by_stream(samples, "depth")} == {(48, 64)}
    np.testing.assert_array_equal(by_stream(samples, "depth")[2].data, depth_frame(2, 64, 48))
    assert (source.stream_info["depth"].width, source.stream_info["depth"].height) == (64, 48)


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "empty"])
def test_damaged_recordings_are_bad_input(recordings, tmp_path, damage):
    data = recordings["same"].read_bytes()
    blob = {"truncated": data[: len(data) // 2], "corrupt": bytes(range(256)) * 20, "empty": b""}[damage]
    path = tmp_path / f"{damage}.db3"
    path.write_bytes(blob)
    with pytest.raises(BadInput, match="not a readable RealSense recording"):
        RealSenseSource(RealSenseConfig(path=str(path)), sink=lambda s: None).start()


def test_corrupt_bag_is_bad_input(tmp_path):
    path = tmp_path / "x.bag"
    path.write_bytes(b"#ROSBAG V2.0\n" + bytes(300))
    with pytest.raises(BadInput, match="x.bag"):
        RealSenseSource(RealSenseConfig(path=str(path)), sink=lambda s: None).start()


def test_missing_file_and_wrong_suffix(tmp_path):
    with pytest.raises(BadInput, match="not found"):
        RealSenseSource(RealSenseConfig(path=str(tmp_path / "nope.db3")), sink=lambda s: None)
    (tmp_path / "clip.mp4").write_bytes(b"x")
    with pytest.raises(BadInput, match=r"\.bag or \.db3"):
        RealSenseSource(RealSenseConfig(path=str(tmp_path / "clip.mp4")), sink=lambda s: None)
