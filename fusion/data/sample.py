"""One captured sample, one hand skeleton, one stream's description: the types every part shares.

Sources (``app/sources``) emit ``Sample``s, the recorder writes them, the recording reader gives them
back, training reads them: one declaration, no conversion between layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STREAMS = ("color", "depth", "skeleton", "audio")  # a recording's stream id is the position here


@dataclass(frozen=True)
class Skeleton:
    """One hand (or body) in MediaPipe's conventions.

    ``image``: (J, 3) float32 — x, y normalised to the (unmirrored) image, z relative to the wrist
    in roughly the same scale as x; ``world``: (J, 3) float32 metres, origin near the hand's
    centre, or None; ``handedness``: "Left" or "Right" as MediaPipe reports it; ``score``: its
    confidence in [0, 1].
    """

    image: np.ndarray
    world: np.ndarray | None = None
    handedness: str = "Right"
    score: float = 1.0


@dataclass(frozen=True)
class Sample:
    """One frame of one stream.

    ``data`` by stream: color (H, W, 3) uint8 RGB; depth (H, W) uint16 in the device's depth units
    (``StreamInfo.depth_scale`` metres each, 0 = no data); skeleton: a ``Skeleton`` or None when no
    hand was found in that frame; audio: (N,) float32 in [-1, 1] at ``StreamInfo.rate`` Hz.
    ``host_ns`` is ``time.monotonic_ns()`` when the sample was captured (for replayed files: when
    it was read; in a recording: when it was captured); ``device_ms`` the device's own timestamp
    where it has one; ``index`` the frame number (the device's where it gives one; gaps are drops).
    """

    stream: str
    data: object
    index: int
    host_ns: int
    device_ms: float | None = None


@dataclass(frozen=True)
class StreamInfo:
    """What a source (or a recording) tells about one of its streams before the first sample."""

    stream: str
    width: int = 0
    height: int = 0
    fps: float = 0.0
    rate: int = 0  # audio sample rate, Hz
    depth_scale: float = 0.0  # metres per depth unit
    intrinsics: dict = field(default_factory=dict)  # fx, fy, ppx, ppy, model, coeffs
