"""Opens a source from what the user typed: a file path or a name.

One branch per kind of source, in order; each constructs that source's own config. Names:
``sample`` (the bundled recording), ``mic`` / ``microphone`` / ``mic:DEVICE``. Files by suffix:
``.mmtm`` (the project's recordings), ``.wav``.
"""

from __future__ import annotations

from pathlib import Path

from app.sources.base import Sink, SourceThread
from fusion.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample.mmtm"
MIC_NAMES = ("mic", "microphone")


def open_source(name: str, *, sink: Sink, realtime: bool = True) -> SourceThread:
    """A source for ``name``, not started. ``realtime=False`` replays files as fast as possible, in
    order (deterministic); live devices ignore it. BadInput for unknown names and bad files."""
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
    path = Path(name)
    suffix = path.suffix.lower()
    if suffix == ".mmtm":
        from app.sources.recording import RecordingConfig, RecordingSource

        return RecordingSource(RecordingConfig(path=str(path), realtime=realtime), sink=sink)
    if suffix == ".wav":
        from app.sources.audio import AudioFileConfig, AudioFileSource

        return AudioFileSource(AudioFileConfig(path=str(path), realtime=realtime), sink=sink)
    if not path.exists():
        raise BadInput(f"unknown source {name!r}: no such file, and not a source name (sample, mic)")
    raise BadInput(f"unsupported source {name!r}: expected a .mmtm recording or a .wav file")
