"""What capture hardware is available, and why something is not (``python main.py sources``).

``list_sources()`` returns one entry per kind — ``realsense``, ``cameras``, ``audio`` — each::

    {"available": bool, "reason": str | None, "devices": [ {...}, ... ]}

``reason`` says why nothing usable was found, naming the fix where there is one (a missing
libusb or PortAudio, no permission on /dev/video*, a RealSense on USB that the SDK cannot open).
RealSense devices carry ``name``, ``serial``, ``firmware`` (and ``recommended_firmware``,
``usb``, ``product_line`` where the SDK tells); cameras ``index``, ``path``, ``width``,
``height``, ``fps``; audio inputs ``index``, ``name``, ``channels``, ``rate``, ``default``.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from fusion.errors import BadInput

# Intel's USB vendor id and the product ids of RealSense cameras (D4xx, L5xx, SR30x), to tell
# "nothing plugged in" from "plugged in but the SDK cannot open it".
INTEL_VENDOR = "8086"
REALSENSE_PRODUCTS = {"0ad1", "0ad2", "0ad3", "0ad4", "0ad5", "0ad6", "0af2", "0af6", "0aa5", "0afe",
                      "0aff", "0b00", "0b01", "0b07", "0b0c", "0b0d", "0b3a", "0b3d", "0b48", "0b49",
                      "0b4b", "0b4d", "0b52", "0b55", "0b5b", "0b5c", "0b64", "0b68", "0b6a", "0b6b"}


@dataclass(frozen=True)
class ListingConfig:
    json: bool = False  # one JSON object on stdout instead of text
    max_cameras: int = 10  # camera indices probed where /dev/video* cannot be listed


def run(config: ListingConfig) -> int:
    """Print what is available (text or JSON); exit code 0 even when nothing is."""
    report = list_sources(max_cameras=config.max_cameras)
    print(json.dumps(report) if config.json else format_report(report))
    return 0


def list_sources(*, max_cameras: int = 10) -> dict:
    return {"realsense": list_realsense(), "cameras": list_cameras(max_cameras=max_cameras), "audio": list_audio()}


def _entry(devices: list, reason: str | None) -> dict:
    return {"available": bool(devices), "reason": None if devices else reason, "devices": devices}


def list_realsense() -> dict:
    from app.sources.realsense_sdk import import_pyrealsense2

    try:
        rs = import_pyrealsense2()
    except BadInput as error:
        return _entry([], str(error))
    try:
        found = list(rs.context().query_devices())
    except RuntimeError as error:
        return _entry([], f"the RealSense SDK cannot list devices ({error})")
    devices = []
    for device in found:
        info = {}
        for key, name in (("name", "name"), ("serial", "serial_number"), ("firmware", "firmware_version"),
                          ("recommended_firmware", "recommended_firmware_version"),
                          ("usb", "usb_type_descriptor"), ("product_line", "product_line")):
            field = getattr(rs.camera_info, name, None)
            if field is not None and device.supports(field):
                info[key] = device.get_info(field)
        devices.append(info)
    reason = "no RealSense device connected"
    if not devices and _realsense_on_usb():
        reason = ("a RealSense is on USB but the SDK cannot open it: no permission; install librealsense's "
                  "udev rules (99-realsense-libusb.rules) or run as a user allowed to use the device")
    return _entry(devices, reason)


def _realsense_on_usb(root: str = "/sys/bus/usb/devices") -> bool:
    for vendor_file in glob.glob(os.path.join(root, "*", "idVendor")):
        folder = Path(vendor_file).parent
        try:
            vendor = Path(vendor_file).read_text().strip()
            product = (folder / "idProduct").read_text().strip()
        except OSError:
            continue
        if vendor == INTEL_VENDOR and product in REALSENSE_PRODUCTS:
            return True
    return False


def list_cameras(*, max_cameras: int = 10, nodes: list[str] | None = None) -> dict:
    """Cameras OpenCV can open; on Linux the /dev/video* nodes are probed (a RealSense shows here too)."""
    try:
        import cv2
    except ImportError as error:
        return _entry([], f"OpenCV is not available ({error}); pip install mediapipe (it brings OpenCV)")
    from app.sources.video import _quiet_opencv

    _quiet_opencv(cv2)
    if nodes is None and sys.platform.startswith("linux"):
        nodes = sorted(glob.glob("/dev/video*"), key=lambda p: (len(p), p))
    if nodes is not None:
        if not nodes:
            return _entry([], "no camera found: no /dev/video* devices")
        candidates = []
        denied = []
        for node in nodes:
            digits = node[len("/dev/video"):]
            if not digits.isdigit():
                continue
            if not os.access(node, os.R_OK | os.W_OK):
                denied.append(node)
                continue
            candidates.append((int(digits), node))
    else:
        candidates, denied = [(i, None) for i in range(max_cameras)], []
    devices = []
    for index, node in candidates:
        capture = cv2.VideoCapture(index)
        try:
            if capture.isOpened():
                devices.append({"index": index, "path": node,
                                "width": int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                                "height": int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                                "fps": float(capture.get(cv2.CAP_PROP_FPS))})
        finally:
            capture.release()
    if denied and not devices:
        reason = f"no permission for {', '.join(denied)}: add your user to the 'video' group (sudo usermod -aG video $USER)"
    elif nodes:
        reason = f"{', '.join(nodes)} present but none opens as a camera (busy, or metadata nodes only)"
    else:
        reason = "no camera found"
    return _entry(devices, reason)


def import_sounddevice():
    """``sounddevice``, or BadInput naming the fix (the package, or PortAudio under it)."""
    try:
        import sounddevice
    except OSError as error:  # raised at import when the PortAudio library is missing
        raise BadInput(f"PortAudio is missing ({error}): sudo apt-get install libportaudio2") from None
    except ImportError as error:
        raise BadInput(f"sounddevice is not available ({error}); pip install sounddevice") from None
    return sounddevice


def list_audio() -> dict:
    try:
        sd = import_sounddevice()
    except BadInput as error:
        return _entry([], str(error))
    try:
        found = sd.query_devices()
        default_input = sd.default.device[0] if sd.default.device is not None else -1
    except Exception as error:  # sounddevice.PortAudioError and friends
        return _entry([], f"PortAudio cannot list devices ({error})")
    devices = [{"index": i, "name": d["name"], "channels": int(d["max_input_channels"]),
                "rate": float(d["default_samplerate"]), "default": i == default_input}
               for i, d in enumerate(found) if d.get("max_input_channels", 0) > 0]
    return _entry(devices, "no audio input device found")


def format_report(report: dict) -> str:
    lines = []
    titles = {"realsense": "RealSense", "cameras": "Cameras", "audio": "Audio inputs"}
    for kind, title in titles.items():
        entry = report[kind]
        if not entry["available"]:
            lines.append(f"{title}: none ({entry['reason']})")
            continue
        lines.append(f"{title}:")
        for d in entry["devices"]:
            if kind == "realsense":
                firmware = d.get("firmware", "?")
                if d.get("recommended_firmware") and d["recommended_firmware"] != firmware:
                    firmware += f" (recommended {d['recommended_firmware']})"
                usb = f", USB {d['usb']}" if d.get("usb") else ""
                lines.append(f"  {d.get('name', 'RealSense')}  serial {d.get('serial', '?')}  firmware {firmware}{usb}")
            elif kind == "cameras":
                where = f" {d['path']}" if d.get("path") else ""
                lines.append(f"  camera {d['index']}{where}  {d['width']}x{d['height']} @ {d['fps']:g} fps")
            else:
                default = "  (default)" if d.get("default") else ""
                lines.append(f"  {d['index']}: {d['name']}  {d['channels']} ch @ {d['rate']:g} Hz{default}")
    return "\n".join(lines)
