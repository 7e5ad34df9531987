"""HandTracker: timestamps, the hand-choice rule, bad models, and a real photo."""

import numpy as np
import pytest

from app.hand_tracker import HandTracker, HandTrackerConfig
from fusion.data.sample import Skeleton
from fusion.errors import BadInput

pytest.importorskip("mediapipe")


@pytest.fixture(scope="module")
def tracker():
    with HandTracker(HandTrackerConfig()) as t:
        yield t


def hand(label, x0, size, score=0.9):
    image = np.zeros((21, 3), np.float32)
    image[:, 0] = np.linspace(x0, x0 + size, 21)
    image[:, 1] = np.linspace(0.2, 0.2 + size, 21)
    return Skeleton(image=image, handedness=label, score=score)


def test_timestamps_become_strictly_increasing_integers():
    t = HandTracker.__new__(HandTracker)  # the clock alone, no model
    t._last_ms = None
    assert [t.timestamp(x) for x in (0.0, 0.4, 10.2, 10.2, 9.0, 33.6)] == [0, 1, 10, 11, 12, 34]


def test_choice_rule_prefers_the_configured_hand_then_the_largest():
    t = HandTracker.__new__(HandTracker)
    t.config = HandTrackerConfig(hand="Right")
    small_right, big_left, big_right = hand("Right", 0.1, 0.1), hand("Left", 0.5, 0.4), hand("Right", 0.3, 0.3)
    assert t.choose([]) is None
    assert t.choose([big_left, small_right]) is small_right  # the preferred hand, even if smaller
    assert t.choose([small_right, big_right, big_left]) is big_right  # the larger of the right hands
    assert t.choose([big_left]) is big_left  # no right hand: any hand
    t.config = HandTrackerConfig(hand="any")
    assert t.choose([small_right, big_left]) is big_left  # the nearest (largest) hand
    tie_a, tie_b = hand("Left", 0.1, 0.2, score=0.6), hand("Left", 0.5, 0.2, score=0.8)
    assert t.choose([tie_a, tie_b]) is tie_b


def test_bad_settings_and_models_are_bad_input(tmp_path):
    with pytest.raises(BadInput, match="hand must be"):
        HandTracker(HandTrackerConfig(hand="left"))
    with pytest.raises(BadInput, match="not found"):
        HandTracker(HandTrackerConfig(model=str(tmp_path / "missing.task")))
    (tmp_path / "junk.task").write_bytes(b"junk")
    with pytest.raises(BadInput, match="not a MediaPipe"):
        HandTracker(HandTrackerConfig(model=str(tmp_path / "junk.task")))


def test_real_photo_has_a_hand_and_a_blank_image_has_none(tracker, real_data):
    import cv2

    rgb = cv2.cvtColor(cv2.imread(str(real_data / "hand_test_image.jpg")), cv2.COLOR_BGR2RGB)
    hands = tracker.track(rgb, 1000.0)
    assert len(hands) >= 1
    chosen = tracker.choose(hands)
    assert chosen.image.shape == (21, 3) and chosen.world.shape == (21, 3)
    assert tracker.track(np.zeros((240, 320, 3), np.uint8), 1000.0) == []  # same time: made later


def test_one_hand_is_tracked_unless_more_are_asked_for(tmp_path):
    from app.engine import Engine, EngineConfig
    from app.sources.open import open_source
    from tests.app.sources.test_video import write_video

    assert HandTrackerConfig().max_hands == 1  # the models read one hand; two cost MediaPipe about twice as much
    video = write_video(tmp_path / "clip.avi")
    assert open_source(str(video), sink=print).config.hands.max_hands == 1
    two = HandTrackerConfig(max_hands=2, hand="Left")
    assert open_source(str(video), sink=print, hands=two).config.hands == two
    engine = Engine(EngineConfig(source=str(video), hands=two))
    assert engine.make_source(str(video), print, True).config.hands == two
