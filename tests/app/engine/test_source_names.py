"""Source names: 'auto' resolved, and the keys several sources go by."""

from app.engine import resolve_source, source_keys


def test_auto_source_prefers_realsense_then_webcam_then_sample(monkeypatch):
    from app.sources import listing

    found = {"realsense": False, "cameras": False}
    monkeypatch.setattr(listing, "list_realsense", lambda: {"available": found["realsense"]})
    monkeypatch.setattr(listing, "list_cameras", lambda **kw: {"available": found["cameras"]})
    assert resolve_source("auto") == "sample"
    found["cameras"] = True
    assert resolve_source("auto") == "webcam"
    found["realsense"] = True
    assert resolve_source("auto") == "realsense"
    assert resolve_source("clip.mp4") == "clip.mp4"


def test_source_keys_are_unique():
    assert source_keys(["sample", "sample", "/x/take.mmtm", "/y/take.mmtm", "webcam:1", "sample"]) == [
        "sample", "sample#2", "take", "take#2", "webcam:1", "sample#3"]
