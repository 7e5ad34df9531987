"""Real RealSense recordings written at test time with ``rs.software_device`` + ``rs.recorder``.

The SDK (2.59) writes ROS2 ``.db3`` files. Depth holds a ramp ``(row * width + col + 7 * k) % 65536``
in frame k; color is constant per frame: R = (20 * k) % 256, G = 7, B = 200 (RGB order). Both
streams share the camera's clock, so frame k of each has timestamp ``k * 1000 / fps`` ms (plus
``color_offset_ms`` for color).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np


def depth_frame(k: int, width: int, height: int) -> np.ndarray:
    ramp = np.arange(width * height, dtype=np.int64).reshape(height, width) + 7 * k
    return (ramp % 65536).astype(np.uint16)  # (H, W)


def color_frame(k: int, width: int, height: int) -> np.ndarray:
    rgb = np.empty((height, width, 3), np.uint8)  # (H, W, 3) RGB
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = (20 * k) % 256, 7, 200
    return rgb


def write_recording(
    path: Path,
    *,
    frames: int = 5,
    depth_size: tuple[int, int] = (64, 48),
    color_size: tuple[int, int] = (64, 48),
    fps: int = 30,
    depth_units: float = 0.001,
    color_format: str = "rgb8",
    color_every: int = 1,
    color_fps: int | None = None,
    color_offset_ms: float = 0.0,
    skip: tuple[int, ...] = (),
    color: Callable[[int], np.ndarray] | None = None,
) -> Path:
    """Write a ``.db3`` with a depth and a color sensor; returns ``path``.

    ``color_every``: color only on every n-th frame (numbered as depth frames: gaps);
    ``color_fps``: a slower color stream (fps a multiple of it) with its own frame numbers 0, 1, ...;
    ``skip``: frame numbers never written (drops).
    ``color_format``: "rgb8" or "bgr8" (the bytes are swapped accordingly);
    ``color``: frame k's RGB pixels (H, W, 3) of ``color_size`` instead of ``color_frame``'s (real footage).
    """
    import pyrealsense2 as rs

    dw, dh = depth_size
    cw, ch = color_size
    device = rs.software_device()
    depth_sensor = device.add_sensor("Stereo Module")
    color_sensor = device.add_sensor("RGB Camera")

    def stream(kind, uid, width, height, bpp, fmt, rate=fps):
        intr = rs.intrinsics()
        intr.width, intr.height = width, height
        intr.fx, intr.fy, intr.ppx, intr.ppy = width * 0.9, width * 0.9, width / 2, height / 2
        intr.model, intr.coeffs = rs.distortion.none, [0.0] * 5
        vs = rs.video_stream()
        vs.type, vs.index, vs.uid = kind, 0, uid
        vs.width, vs.height, vs.fps, vs.bpp, vs.fmt, vs.intrinsics = width, height, rate, bpp, fmt, intr
        return vs

    depth_profile = depth_sensor.add_video_stream(stream(rs.stream.depth, 0, dw, dh, 2, rs.format.z16))
    fmt = rs.format.rgb8 if color_format == "rgb8" else rs.format.bgr8
    color_profile = color_sensor.add_video_stream(stream(rs.stream.color, 1, cw, ch, 3, fmt, color_fps or fps))
    depth_sensor.add_read_only_option(rs.option.depth_units, depth_units)
    identity = rs.extrinsics()
    identity.rotation, identity.translation = [1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0]
    depth_profile.register_extrinsics_to(color_profile, identity)
    device.create_matcher(rs.matchers.dlr_c)

    recorder = rs.recorder(str(path), device)
    sensors = recorder.query_sensors()
    sensors[0].open(depth_profile)
    sensors[1].open(color_profile)
    for sensor in sensors:
        sensor.start(lambda frame: None)
    keep = []  # the SDK reads the pixels after on_video_frame returns

    def push(sensor, profile, pixels, bpp, k, ts):
        keep.append(pixels)
        f = rs.software_video_frame()
        f.pixels, f.stride, f.bpp = pixels, pixels.shape[1] * bpp, bpp
        f.timestamp, f.domain, f.frame_number = ts, rs.timestamp_domain.hardware_clock, k
        f.profile = profile.as_video_stream_profile()
        sensor.on_video_frame(f)

    for k in range(frames):
        if k in skip:
            continue
        ts = k * 1000.0 / fps
        push(depth_sensor, depth_profile, depth_frame(k, dw, dh), 2, k, ts)
        step = fps // color_fps if color_fps else color_every
        if k % step == 0:
            rgb = color(k) if color is not None else color_frame(k, cw, ch)
            pixels = rgb if color_format == "rgb8" else np.ascontiguousarray(rgb[..., ::-1])
            number = k // step if color_fps else k
            push(color_sensor, color_profile, pixels, 3, number, ts + color_offset_ms)
    for sensor in sensors:
        sensor.stop()
        sensor.close()
    del sensors, recorder, depth_sensor, color_sensor, device  # the file is complete once these are gone
    return path
