"""Small recordings written by the tests (no hardware)."""

import numpy as np

from fusion.data.recording import RecordingWriter

from fusion.data.sample import Skeleton

T0 = 10**9
PERIOD = 33_333_333


def write_rgbd(path, n=30, *, h=24, w=32, color_every=2, hand_every=3):
    """depth every frame (30 fps), color every ``color_every``, a hand in frames not divisible by
    ``hand_every``; a label over the first second."""
    with RecordingWriter(path, meta={"device": {"name": "test-rgbd"}}) as rec:
        rec.set_stream("depth", {"width": w, "height": h, "fps": 30.0, "depth_scale": 0.001})
        rec.set_stream("color", {"width": w, "height": h, "fps": 30.0 / color_every})
        for i in range(n):
            t = T0 + i * PERIOD
            rec.write("depth", np.full((h, w), 500 + i, np.uint16), index=i, host_ns=t, device_ms=t / 1e6)
            if i % color_every == 0:
                rec.write("color", np.full((h, w, 3), i % 256, np.uint8), index=i // color_every, host_ns=t + 2_000_000)
            hand = Skeleton(np.full((21, 3), i / n, np.float32)) if i % hand_every else None
            rec.write("skeleton", hand, index=i, host_ns=t + 4_000_000)
        rec.add_label("swipe_left", start_ns=T0, end_ns=T0 + 10**9)
    return path
