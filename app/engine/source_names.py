"""What the user typed, as sources: ``auto`` resolved, the default way to open a name, unique keys."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from app.hand_tracker import HandTrackerConfig
from app.sources.base import Sink, SourceThread

SourceFactory = Callable[[str, Sink, bool], SourceThread]  # (name, sink, realtime) -> a source, not started


def open_named(name: str, sink: Sink, realtime: bool, hands: HandTrackerConfig | None = None) -> SourceThread:
    """The default ``SourceFactory`` (with the engine's ``hands`` bound): ``app.sources.open.open_source``."""
    from app.sources.open import open_source

    return open_source(name, sink=sink, realtime=realtime, hands=hands)


def resolve_source(name: str) -> str:
    """``auto``: a RealSense if one is plugged in, else a webcam, else the bundled sample; other
    names pass through (``open_source`` checks them)."""
    if name != "auto":
        return name
    try:
        from app.sources.listing import list_cameras, list_realsense
    except ImportError:
        return "sample"
    if list_realsense()["available"]:
        return "realsense"
    if list_cameras(max_cameras=2)["available"]:
        return "webcam"
    return "sample"


def source_keys(names: Sequence[str]) -> list[str]:
    """The keys several sources go by in the JSON lines: a file's stem or the name as typed
    (``sample``, ``webcam:1``), made unique by ``#2``, ``#3``, … (the same file twice: ``sample``,
    ``sample#2``)."""
    taken: set[str] = set()
    keys = []
    for name in names:
        keys.append(unique_key(name, taken))
        taken.add(keys[-1])
    return keys


def unique_key(name: str, taken: set[str]) -> str:
    """The key of ``name`` (see ``source_keys``) that is not in ``taken``."""
    path = Path(name)
    base = path.stem if path.suffix and ":" not in name else name
    key, k = base, 2
    while key in taken:
        key, k = f"{base}#{k}", k + 1
    return key
