import zipfile

from app import hand_model


def test_cached_bundle_is_checked_byte_for_byte(tmp_path):
    bundle = tmp_path / "hand_landmarker.task"
    with zipfile.ZipFile(bundle, "w") as z:
        z.writestr("hand_detector.tflite", b"not a model")
        z.writestr("hand_landmarks_detector.tflite", b"nor this")
    assert not hand_model.bundle_is_valid(bundle)
    assert not hand_model.bundle_is_valid(tmp_path / "missing.task")
    (tmp_path / "junk.task").write_bytes(b"\x00" * 10)
    assert not hand_model.bundle_is_valid(tmp_path / "junk.task")


def test_ensure_builds_a_valid_bundle(tmp_path, monkeypatch):
    # Uses the user cache when it already holds a valid bundle, else downloads from PyPI once.
    path = hand_model.ensure_hand_model()
    assert hand_model.bundle_is_valid(path)
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == sorted(hand_model.MEMBERS)
