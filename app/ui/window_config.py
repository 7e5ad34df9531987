"""How the window looks and behaves (not what the engine does)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WindowConfig:
    """How the window looks and behaves (not what the engine does)."""

    mirror: bool = True  # show the preview mirrored, like a selfie camera
    show_depth: bool = True  # the depth view beside the video
    refresh_ms: int = 15  # how often the window takes the newest snapshot
    top_k: int = 5  # class bars shown
    timeline_seconds: float = 10.0  # how much history the timeline shows
    depth_range_m: tuple[float, float] = (0.2, 2.0)  # near and far ends of the depth colour map
    swap_handedness: bool = False  # True if the landmarker names hands as if the image were mirrored
    recordings_dir: str = "recordings"  # where the record dialog proposes to write
    recording_suffix: str = ""  # appended to the proposed recording name (the format's suffix)
    title: str = "mmtm-live"
    size: tuple[int, int] = (1280, 720)  # initial window size (F: full screen)
    # if set, run_window sets sys.setswitchinterval to this while the window runs (the GUI thread
    # then gets the GIL back sooner from Python-heavy engine threads); None: Python's default, 5 ms
    gil_switch_interval_ms: float | None = None
