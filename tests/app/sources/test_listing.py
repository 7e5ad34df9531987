"""``python main.py sources``: what is available and why not, with the SDKs monkeypatched."""

import builtins
import json
import sys
import types

import pytest

import main
from app.sources import listing

_orig_on_usb = listing._realsense_on_usb


class FakeRsDevice:
    def __init__(self, **info):
        self.info = info

    def supports(self, field):
        return field in self.info

    def get_info(self, field):
        return self.info[field]


def fake_rs(devices):
    camera_info = types.SimpleNamespace(name="name", serial_number="serial_number", firmware_version="firmware_version",
                                        recommended_firmware_version="recommended_firmware_version",
                                        usb_type_descriptor="usb_type_descriptor", product_line="product_line")
    context = types.SimpleNamespace(query_devices=lambda: devices)
    return types.SimpleNamespace(pipeline=object, camera_info=camera_info, context=lambda: context)


def failing_import(monkeypatch, module, error):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == module:
            raise error
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_realsense_devices_with_serial_and_firmware(monkeypatch, capsys):
    d435 = FakeRsDevice(name="Intel RealSense D435", serial_number="123456", firmware_version="5.13.0.50",
                        recommended_firmware_version="5.16.0.1", usb_type_descriptor="3.2")
    d405 = FakeRsDevice(name="Intel RealSense D405", serial_number="987", firmware_version="5.16.0.1")
    monkeypatch.setitem(sys.modules, "pyrealsense2", fake_rs([d435, d405]))
    entry = listing.list_realsense()
    assert entry["available"] and entry["reason"] is None
    assert entry["devices"][0] == {"name": "Intel RealSense D435", "serial": "123456", "firmware": "5.13.0.50",
                                   "recommended_firmware": "5.16.0.1", "usb": "3.2"}
    assert entry["devices"][1]["serial"] == "987"
    text = listing.format_report({"realsense": entry, "cameras": listing._entry([], "x"), "audio": listing._entry([], "y")})
    assert "serial 123456  firmware 5.13.0.50 (recommended 5.16.0.1), USB 3.2" in text


def test_realsense_on_usb_without_permission(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyrealsense2", fake_rs([]))
    usb = tmp_path / "1-2"
    usb.mkdir()
    (usb / "idVendor").write_text("8086\n")
    (usb / "idProduct").write_text("0b07\n")  # a D435
    assert _orig_on_usb(str(tmp_path))
    monkeypatch.setattr(listing, "_realsense_on_usb", lambda: _orig_on_usb(str(tmp_path)))
    entry = listing.list_realsense()
    assert not entry["available"] and "udev rules" in entry["reason"] and "no permission" in entry["reason"]


def test_no_realsense_plugged_in(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyrealsense2", fake_rs([]))
    monkeypatch.setattr(listing, "_realsense_on_usb", lambda: _orig_on_usb(str(tmp_path)))
    assert listing.list_realsense()["reason"] == "no RealSense device connected"


@pytest.mark.parametrize("error, fix", [
    (ImportError("libusb-1.0.so.0: cannot open shared object file: No such file or directory"), "apt-get install libusb-1.0-0"),
    (ModuleNotFoundError("No module named 'pyrealsense2'"), "pip install pyrealsense2"),
])
def test_realsense_sdk_or_libusb_missing(monkeypatch, error, fix):
    failing_import(monkeypatch, "pyrealsense2", error)
    entry = listing.list_realsense()
    assert not entry["available"] and fix in entry["reason"]


def fake_sounddevice(devices, default=(1, 0)):
    return types.SimpleNamespace(query_devices=lambda: devices, default=types.SimpleNamespace(device=default))


def test_audio_inputs_only(monkeypatch):
    devices = [
        {"name": "HDMI out", "max_input_channels": 0, "default_samplerate": 48000.0},
        {"name": "USB mic", "max_input_channels": 1, "default_samplerate": 16000.0},
    ]
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(devices))
    entry = listing.list_audio()
    assert entry["devices"] == [{"index": 1, "name": "USB mic", "channels": 1, "rate": 16000.0, "default": True}]


def test_portaudio_missing_names_the_package(monkeypatch):
    failing_import(monkeypatch, "sounddevice", OSError("PortAudio library not found"))
    entry = listing.list_audio()
    assert not entry["available"] and "apt-get install libportaudio2" in entry["reason"]


def test_portaudio_error_while_listing(monkeypatch):
    def broken():
        raise RuntimeError("Error querying device -1")

    monkeypatch.setitem(sys.modules, "sounddevice", types.SimpleNamespace(query_devices=broken, default=None))
    assert "Error querying device -1" in listing.list_audio()["reason"]


def test_cameras_no_nodes_and_no_permission(tmp_path, monkeypatch):
    assert listing.list_cameras(nodes=[])["reason"] == "no camera found: no /dev/video* devices"
    monkeypatch.setattr(listing.os, "access", lambda path, mode: False)
    entry = listing.list_cameras(nodes=["/dev/video0", "/dev/video1"])
    assert not entry["available"] and "no permission for /dev/video0, /dev/video1" in entry["reason"]
    assert "video' group" in entry["reason"]


def test_cameras_that_open(monkeypatch):
    import cv2

    class FakeCapture:
        def __init__(self, index):
            self.index = index

        def isOpened(self):
            return self.index == 2  # /dev/video3 is the camera's metadata node

        def get(self, prop):
            return {cv2.CAP_PROP_FRAME_WIDTH: 640, cv2.CAP_PROP_FRAME_HEIGHT: 480, cv2.CAP_PROP_FPS: 30}.get(prop, 0)

        def release(self):
            pass

    monkeypatch.setattr(cv2, "VideoCapture", FakeCapture)
    monkeypatch.setattr(listing.os, "access", lambda path, mode: True)
    entry = listing.list_cameras(nodes=["/dev/video2", "/dev/video3"])
    assert entry["devices"] == [{"index": 2, "path": "/dev/video2", "width": 640, "height": 480, "fps": 30.0}]


def test_sources_command_prints_json_and_text(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyrealsense2", fake_rs([FakeRsDevice(name="D455", serial_number="42", firmware_version="5.16")]))
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice([]))
    monkeypatch.setattr(listing, "list_cameras", lambda max_cameras: listing._entry([], "no camera found: test"))
    assert main.main(["sources", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["realsense"]["devices"][0]["serial"] == "42"
    assert report["audio"] == {"available": False, "reason": "no audio input device found", "devices": []}
    assert main.main(["sources"]) == 0
    out = capsys.readouterr().out
    assert "D455  serial 42  firmware 5.16" in out
    assert "Cameras: none (no camera found: test)" in out
