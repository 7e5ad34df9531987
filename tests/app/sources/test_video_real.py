"""VideoSource + MediaPipe on real footage (skips without ../shared/data/real)."""

import numpy as np
import pytest

from app.sources.video import VideoConfig, VideoSource
from fusion.errors import BadInput

pytest.importorskip("mediapipe")


@pytest.fixture(scope="module")
def hand_video_run(request):
    from tests.conftest import REAL_DATA

    path = REAL_DATA / "hand_test_video.mp4"
    if not path.is_file():
        pytest.skip(f"real footage not found at {REAL_DATA}")
    samples = []
    source = VideoSource(VideoConfig(path=str(path), real_time=False), sink=samples.append)
    source.start()
    source.join(timeout=120)
    return source, samples


def test_hand_video_yields_a_skeleton_in_most_frames(real_data, hand_video_run):
    source, samples = hand_video_run
    colors = [s for s in samples if s.stream == "color"]
    skeletons = [s for s in samples if s.stream == "skeleton"]
    assert len(colors) == len(skeletons) == 202
    found = [s for s in skeletons if s.data is not None]
    assert len(found) >= 0.9 * 202
    assert source.stats["hands"] == len(found)
    assert colors[0].data.shape == (360, 640, 3) and colors[0].data.dtype == np.uint8
    assert [s.device_ms for s in colors[:3]] == pytest.approx([0.0, 40.0, 80.0])  # 25 fps
    hand = found[len(found) // 2].data
    assert hand.image.shape == (21, 3) and hand.image.dtype == np.float32
    assert hand.world is not None and hand.world.shape == (21, 3)
    assert ((hand.image[:, :2] >= -0.1) & (hand.image[:, :2] <= 1.1)).all()
    assert hand.handedness in ("Left", "Right") and 0.5 <= hand.score <= 1.0
    # a real hand: the wrist-to-middle-finger-tip span is a plausible 10-25 cm in world metres
    span = np.linalg.norm(hand.world[12] - hand.world[0])
    assert 0.08 < span < 0.3


def test_truncated_real_video_is_bad_input(real_data, tmp_path):
    data = (real_data / "hand_test_video.mp4").read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])
    source = VideoSource(VideoConfig(path=str(path), real_time=False, skeleton=False), sink=lambda s: None)
    source.start()
    with pytest.raises(BadInput, match="truncated"):
        source.join(timeout=30)
