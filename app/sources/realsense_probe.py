"""Opens a RealSense recording once in a child process before this process opens it.

librealsense runs its file parser with the GIL held and trusts the file: fuzzing found damaged
``.db3`` files on which ``rs.context().load_device`` dies with SIGSEGV or spins forever (a topic of
the device's static data renamed, an option or stream info missing its partner). Python can neither
catch the one nor interrupt the other, so the first open happens in a child that may die: what the
child survives, this process survives too (the same SDK, the same file, the same calls).

Costs one interpreter start that imports only pyrealsense2 (about 0.5 s); recordings only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fusion.errors import BadInput

PROBE_TIMEOUT_S = 20.0  # load_device reads the file's index; real recordings of GBs open in a few seconds

# What RsSession._open_recording does to a file, up to its first frame: load it, open its streams.
_PROBE = """
import sys
import pyrealsense2 as rs
rs = rs if hasattr(rs, "pipeline") else rs.pyrealsense2
try:
    device = rs.context().load_device(sys.argv[1])
    playback = device.as_playback()
    playback.set_real_time(False)
    for sensor in device.query_sensors():
        wanted = [p for p in sensor.get_stream_profiles() if p.stream_type() in (rs.stream.color, rs.stream.depth)]
        if wanted:
            sensor.open(wanted)
            sensor.close()
except RuntimeError as error:
    lines = str(error).strip().splitlines() or [type(error).__name__]
    print(lines[-1][:300])
    sys.exit(3)
"""


def probe_recording(path: str | Path, *, timeout_s: float | None = None) -> None:
    """BadInput when the SDK refuses ``path``, dies on it or does not finish opening it in ``timeout_s``
    (default ``PROBE_TIMEOUT_S``)."""
    timeout_s = timeout_s or PROBE_TIMEOUT_S
    try:
        child = subprocess.run([sys.executable, "-c", _PROBE, str(path)], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BadInput(f"{path}: not a readable RealSense recording (the SDK did not finish opening it in "
                       f"{timeout_s:.0f} s; damaged?)") from None
    if child.returncode == 0:
        return
    if child.returncode == 3:
        raise BadInput(f"{path}: not a readable RealSense recording ({child.stdout.strip()})")
    why = f"signal {-child.returncode}" if child.returncode < 0 else f"exit {child.returncode}"
    raise BadInput(f"{path}: not a readable RealSense recording (the SDK crashed opening it: {why}; damaged?)")
