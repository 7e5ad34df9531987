"""The RealSense SDK (pyrealsense2) side of ``app.sources.realsense``: a device or recording opened
as a ``Session`` (``RsSession``), color conversion, intrinsics. Only this file imports the SDK.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from app.sources.realsense import DeviceLost, EndOfStream, RawFrame, RealSenseConfig
from app.sources.realsense_db3 import check_db3
from app.sources.realsense_probe import probe_recording
from fusion.data.sample import StreamInfo
from fusion.errors import BadInput

HANDOVER_FRAMES = 4  # recorded frames the playback may run ahead of the reader


def import_pyrealsense2():
    """``pyrealsense2``, or BadInput naming the fix (the package, or libusb under it)."""
    try:
        import pyrealsense2 as rs
    except ImportError as error:
        if "libusb" in str(error):
            raise BadInput("pyrealsense2 needs libusb: sudo apt-get install libusb-1.0-0") from None
        raise BadInput(f"pyrealsense2 is not available ({error}); pip install pyrealsense2") from None
    except OSError as error:  # a broken shared library
        raise BadInput(f"pyrealsense2 cannot load ({error}); sudo apt-get install libusb-1.0-0") from None
    if not hasattr(rs, "pipeline"):  # some builds nest the module one level down
        rs = rs.pyrealsense2
    return rs



def to_rgb(pixels: np.ndarray, fmt: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB from a RealSense color buffer in format ``fmt`` (rgb8, bgr8, ...)."""
    if fmt == "rgb8":
        return np.array(pixels, dtype=np.uint8, copy=True)
    if fmt in ("bgr8", "bgra8"):
        import cv2

        return cv2.cvtColor(np.asarray(pixels), cv2.COLOR_BGR2RGB if fmt == "bgr8" else cv2.COLOR_BGRA2RGB)
    if fmt == "rgba8":
        return np.ascontiguousarray(pixels[..., :3])
    if fmt in ("yuyv", "uyvy"):
        import cv2

        code = cv2.COLOR_YUV2RGB_YUYV if fmt == "yuyv" else cv2.COLOR_YUV2RGB_UYVY
        return cv2.cvtColor(np.asarray(pixels).reshape(pixels.shape[0], -1, 2), code)
    raise BadInput(f"unsupported RealSense color format: {fmt}")


def intrinsics_dict(intrinsics) -> dict:
    return {"fx": intrinsics.fx, "fy": intrinsics.fy, "ppx": intrinsics.ppx, "ppy": intrinsics.ppy,
            "width": intrinsics.width, "height": intrinsics.height,
            "model": str(intrinsics.model).split(".")[-1], "coeffs": list(intrinsics.coeffs)}


def open_rs_session(config: RealSenseConfig) -> "RsSession":
    """Open the device or recording of ``config``; BadInput for bad files, DeviceLost for no device."""
    return RsSession(config)


class RsSession:
    """An opened device or recording with ``rs.align`` built once; see ``Session``.

    Live: an ``rs.pipeline`` (its syncer hands out frame sets). Recordings: the playback device's
    sensors, each frame handed over by a callback that blocks while the reader is behind, with
    ``set_real_time(False)``: every recorded frame exactly once, in file order, on every run.
    (Measured with SDK 2.59: a pipeline over a non-real-time playback delivered 0, 3 or 6 of 6
    recorded frame sets on repeated runs of the same file.)
    """

    def __init__(self, config: RealSenseConfig) -> None:
        rs = import_pyrealsense2()
        self.rs = rs
        self.is_recording = config.path is not None
        self.pipeline = None
        self.playback = None
        self._sensors: list = []
        self._frames: deque = deque()  # recorded frames handed over by the playback callback
        self._handover = threading.Condition()
        self._reading = False  # the callback waits for a slow reader only once it reads
        self._closed = False
        self._composer = None
        if self.is_recording:
            device, profiles = self._open_recording(config)
        else:
            device, profiles = self._open_live(config)
        streams = {p.stream_type(): p.as_video_stream_profile() for p in profiles
                   if p.stream_type() in (rs.stream.color, rs.stream.depth)}
        if not streams:
            self.close()
            raise BadInput(f"{config.path}: the recording has neither color nor depth")
        self.depth_scale = 0.0
        if rs.stream.depth in streams:
            self.depth_scale = device.first_depth_sensor().get_depth_scale()
        self.aligner = rs.align(rs.stream.color) if config.align and len(streams) == 2 else None
        self.stream_info: dict[str, StreamInfo] = {}
        color = streams.get(rs.stream.color)
        if color is not None:
            self.stream_info["color"] = StreamInfo("color", color.width(), color.height(), float(color.fps()),
                                                   intrinsics=intrinsics_dict(color.get_intrinsics()))
        depth = streams.get(rs.stream.depth)
        if depth is not None:
            shown = color if self.aligner is not None else depth
            self.stream_info["depth"] = StreamInfo("depth", shown.width(), shown.height(), float(depth.fps()),
                                                   depth_scale=self.depth_scale,
                                                   intrinsics=intrinsics_dict(shown.get_intrinsics()))
        if self.is_recording:
            self.playback.pause()  # else frames play before the last sensor listens (measured: lost)
            for sensor in self._sensors:
                sensor.start(self._on_frame)
            self.playback.resume()

    def _open_recording(self, config: RealSenseConfig):
        rs = self.rs
        if str(config.path).lower().endswith(".db3"):  # damage that would crash or hang load_device
            check_db3(config.path, option_names=[str(option) for option in rs.option.__members__.values()])
        probe_recording(config.path)  # any other: the SDK opens it in a child first
        try:
            device = rs.context().load_device(str(config.path))
            self.playback = device.as_playback()
            self.playback.set_real_time(False)  # deterministic; the source paces by timestamps
            profiles = []
            for sensor in device.query_sensors():
                wanted = [p for p in sensor.get_stream_profiles()
                          if p.stream_type() in (rs.stream.color, rs.stream.depth)]
                if wanted:
                    sensor.open(wanted)
                    self._sensors.append(sensor)
                    profiles += wanted
        except RuntimeError as error:
            self.close()
            raise BadInput(f"{config.path}: not a readable RealSense recording ({_last_line(error)})") from None
        return device, profiles

    def _open_live(self, config: RealSenseConfig):
        rs = self.rs
        devices = [d.get_info(rs.camera_info.serial_number) for d in rs.context().query_devices()]
        if not devices:
            raise DeviceLost("no RealSense device connected")
        if config.serial is not None and config.serial not in devices:
            raise DeviceLost(f"RealSense {config.serial} not connected (connected: {', '.join(devices)})")
        cfg = rs.config()
        if config.serial is not None:
            cfg.enable_device(config.serial)
        cfg.enable_stream(rs.stream.color, config.width, config.height, rs.format.rgb8, config.fps)
        cfg.enable_stream(rs.stream.depth, config.depth_width or config.width,
                          config.depth_height or config.height, rs.format.z16, config.fps)
        self.pipeline = rs.pipeline()
        try:
            profile = self.pipeline.start(cfg)
        except RuntimeError as error:
            self.pipeline = None
            raise DeviceLost(f"RealSense could not start ({_last_line(error)})") from None
        device = profile.get_device()
        for sensor in device.query_sensors():
            if sensor.supports(rs.option.frames_queue_size):
                sensor.set_option(rs.option.frames_queue_size, config.queue_size)
            if sensor.supports(rs.option.auto_exposure_priority):
                sensor.set_option(rs.option.auto_exposure_priority, 0)
        return device, list(profile.get_streams())

    def _on_frame(self, frame) -> None:
        """Playback callback: waits while the reader is behind (this makes playback deterministic)."""
        frame.keep()
        with self._handover:
            while self._reading and len(self._frames) >= HANDOVER_FRAMES and not self._closed:
                self._handover.wait(0.05)
            self._frames.append(frame)
            self._handover.notify_all()

    def read(self, timeout_ms: int) -> list[RawFrame] | None:
        if self.playback is not None:
            return self._read_recording(timeout_ms)
        try:
            ok, frameset = self.pipeline.try_wait_for_frames(timeout_ms)
        except RuntimeError as error:
            raise DeviceLost(_last_line(error)) from None
        if not ok:
            return None
        frames = [self._raw(frame) for frame in frameset]
        return [frame for frame in frames if frame is not None]

    def _read_recording(self, timeout_ms: int) -> list[RawFrame] | None:
        frame = self._next_recorded(timeout_ms / 1000.0)
        if frame is None:
            if self.playback.current_status() != self.rs.playback_status.stopped:
                return None
            frame = self._next_recorded(0.05)  # stopped: the last frame may still be on its way
            if frame is None:
                raise EndOfStream()
        raw = self._raw(frame)
        return [raw] if raw is not None else []

    def _next_recorded(self, timeout_s: float):
        with self._handover:
            self._reading = True
            if not self._frames:
                self._handover.wait(timeout_s)
            if not self._frames:
                return None
            frame = self._frames.popleft()
            self._handover.notify_all()
            return frame

    def _raw(self, frame) -> RawFrame | None:
        rs = self.rs
        kind = frame.get_profile().stream_type()
        if kind not in (rs.stream.color, rs.stream.depth):
            return None
        frame.keep()  # may wait in the pairing queue past the next frame set
        stream = "color" if kind == rs.stream.color else "depth"
        return RawFrame(stream, frame.get_frame_number(), frame.get_timestamp(), frame)

    def color(self, frame: RawFrame) -> np.ndarray:
        rs_frame = frame.handle
        fmt = str(rs_frame.get_profile().format()).split(".")[-1]
        return to_rgb(np.asanyarray(rs_frame.get_data()), fmt)

    def depth(self, frame: RawFrame, color: RawFrame | None) -> np.ndarray:
        depth = frame.handle
        if self.aligner is not None and color is not None:
            aligned = self.aligner.process(self._compose(depth, color.handle)).get_depth_frame()
            return np.array(aligned.get_data(), dtype=np.uint16, copy=True)
        return np.array(depth.get_data(), dtype=np.uint16, copy=True)

    def _compose(self, depth, color):
        """One frame set of a depth and a color frame (rs.align works on frame sets)."""
        rs = self.rs
        if self._composer is None:
            held: list = []

            def compose(frame, source) -> None:
                source.frame_ready(source.allocate_composite_frame(held))

            self._held = held
            self._composer = rs.processing_block(compose)
            self._composed = rs.frame_queue(1)
            self._composer.start(self._composed)
        self._held[:] = [depth, color]
        self._composer.invoke(depth)
        composed = self._composed.wait_for_frame(1000).as_frameset()
        self._held[:] = []
        return composed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True  # releases a playback callback waiting on a full queue
        if self.pipeline is not None:
            try:
                self.pipeline.stop()
            except RuntimeError:
                pass
        for sensor in self._sensors:
            for step in (sensor.stop, sensor.close):
                try:
                    step()
                except RuntimeError:
                    pass
        self._sensors = []
        with self._handover:
            self._frames.clear()
            self._handover.notify_all()


def _last_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[-1] if text else type(error).__name__
