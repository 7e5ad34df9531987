"""Opens a source from what the user typed: a file path or a name.

One branch per kind of source, in order; each constructs that source's own config. Names:
``sample`` (the bundled recording), ``realsense`` / ``realsense:SERIAL`` (live), ``webcam`` /
``webcam:INDEX``, ``mic`` / ``microphone`` / ``mic:DEVICE``. Files by suffix: ``.mmtm`` (the
project's recordings), ``.bag`` / ``.db3`` (RealSense recordings), video files (``.mp4``, ``.avi``, …,
with a MediaPipe hand skeleton), ``.wav``.
"""

from __future__ import annotations

from pathlib import Path

from app.hand_tracker import HandTrackerConfig
from app.sources.base import Sink, SourceThread
from fusion.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample.mmtm"
MIC_NAMES = ("mic", "microphone")
REALSENSE_SUFFIXES = (".bag", ".db3")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


def open_source(name: str, *, sink: Sink, realtime: bool = True,
                hands: HandTrackerConfig | None = None) -> SourceThread:
    """A source for ``name``, not started. ``realtime=False`` replays files as fast as possible, in
    order (deterministic); live devices ignore it. ``hands``: MediaPipe's settings for the sources
    that track hands in color frames (webcams and video files; default ``HandTrackerConfig()``).
    BadInput for unknown names and bad files."""
    hands = hands or HandTrackerConfig()
    lowered = name.lower()
    if lowered == "sample":
        if not SAMPLE.is_file():
            raise BadInput(f"the bundled sample recording is missing ({SAMPLE})")
        name = str(SAMPLE)
    if lowered in MIC_NAMES or lowered.startswith(("mic:", "microphone:")):
        from app.sources.audio import MicrophoneConfig, MicrophoneSource

        device = name.split(":", 1)[1] if ":" in name else None
        return MicrophoneSource(MicrophoneConfig(device=int(device) if device and device.isdigit() else device),
                                sink=sink)
    if lowered == "realsense" or lowered.startswith("realsense:"):
        from app.sources.realsense import RealSenseConfig, RealSenseSource

        serial = name.split(":", 1)[1] if ":" in name else None
        return RealSenseSource(RealSenseConfig(serial=serial or None), sink=sink)
    if lowered == "webcam" or lowered.startswith("webcam:"):
        from app.sources.video import VideoConfig, VideoSource

        index = name.split(":", 1)[1] if ":" in name else "0"
        if not index.isdigit():
            raise BadInput(f"webcam index must be a number, got {index!r} (e.g. webcam:0)")
        return VideoSource(VideoConfig(camera=int(index), hands=hands), sink=sink)
    path = Path(name)
    suffix = path.suffix.lower()
    if suffix in REALSENSE_SUFFIXES:
        from app.sources.realsense import RealSenseConfig, RealSenseSource

        return RealSenseSource(RealSenseConfig(path=str(path), real_time=realtime), sink=sink)
    if suffix in VIDEO_SUFFIXES:
        from app.sources.video import VideoConfig, VideoSource

        return VideoSource(VideoConfig(path=str(path), real_time=realtime, hands=hands), sink=sink)
    if suffix == ".mmtm":
        from app.sources.recording import RecordingConfig, RecordingSource

        return RecordingSource(RecordingConfig(path=str(path), realtime=realtime), sink=sink)
    if suffix == ".wav":
        from app.sources.audio import AudioFileConfig, AudioFileSource

        return AudioFileSource(AudioFileConfig(path=str(path), realtime=realtime), sink=sink)
    if not path.exists():
        raise BadInput(f"unknown source {name!r}: no such file, and not a source name (sample, realsense, webcam, mic)")
    raise BadInput(f"unsupported source {name!r}: expected a .mmtm, .bag, .db3, video or .wav file")
