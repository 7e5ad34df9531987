"""MediaPipe's hand-landmarker model bundle, obtained offline from PyPI with checksums.

mediapipe >= 1.0 ships no model files. The Apache-2.0 hand models are inside the
``mediapipe==0.10.21`` wheel on PyPI; a zip holding the palm detector as ``hand_detector.tflite``
and the landmark model as ``hand_landmarks_detector.tflite`` is a working ``hand_landmarker.task``.
``ensure_hand_model()`` builds that bundle once into the user's cache and checks every byte.

Google's own bundle works as well (pass its path wherever a model path is taken):
https://storage.googleapis.com/mediapipe-models/hand_landmarker/hand_landmarker/float16/latest/hand_landmarker.task
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from fusion.errors import BadInput

WHEEL = "mediapipe==0.10.21"
# The wheel for one platform; the model files inside are the same in every platform's wheel.
WHEEL_PLATFORM = ("--python-version", "3.11", "--platform", "manylinux_2_28_x86_64", "--only-binary=:all:")

# bundle member -> (path inside the wheel, sha256 of the file)
MEMBERS = {
    "hand_detector.tflite": (
        "mediapipe/modules/palm_detection/palm_detection_full.tflite",
        "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54",
    ),
    "hand_landmarks_detector.tflite": (
        "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
        "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
    ),
}


def cache_dir() -> Path:
    """``$MMTM_LIVE_CACHE``, else ``$XDG_CACHE_HOME/mmtm-live``, else ``~/.cache/mmtm-live``."""
    if os.environ.get("MMTM_LIVE_CACHE"):
        return Path(os.environ["MMTM_LIVE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mmtm-live"


def default_path() -> Path:
    return cache_dir() / "hand_landmarker.task"


def bundle_is_valid(path: Path) -> bool:
    """True when ``path`` is a zip holding both models with the expected checksums."""
    try:
        with zipfile.ZipFile(path) as bundle:
            return all(_sha256(bundle.read(name)) == sha for name, (_, sha) in MEMBERS.items())
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


def ensure_hand_model(path: Path | None = None, *, log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> Path:
    """The path of a valid hand bundle, building it from PyPI first if it is missing or damaged."""
    path = Path(path) if path is not None else default_path()
    if bundle_is_valid(path):
        return path
    log(f"mmtm-live: fetching MediaPipe's hand models ({WHEEL} from PyPI, ~36 MB, once) into {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mmtm-live-") as tmp:
        wheel = _download_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as archive:
            models = {name: archive.read(inner) for name, (inner, _) in MEMBERS.items()}
        for name, data in models.items():
            if _sha256(data) != MEMBERS[name][1]:
                raise BadInput(f"checksum mismatch for {MEMBERS[name][0]} in {wheel.name}; refusing to use it")
        partial = path.with_suffix(".partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as bundle:
            for name, data in models.items():
                bundle.writestr(name, data)
        os.replace(partial, path)
    log(f"mmtm-live: hand model ready at {path}")
    return path


def resolve_hand_model(path: str | Path | None) -> Path:
    """A user-given bundle (checked to exist), or the project's own, fetched if needed."""
    if path is None:
        return ensure_hand_model()
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"hand model not found: {path}")
    if not zipfile.is_zipfile(path):
        raise BadInput(f"{path} is not a MediaPipe .task bundle (not a zip file)")
    return path


def _download_wheel(folder: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(folder), *WHEEL_PLATFORM, WHEEL]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = list(folder.glob("mediapipe-*.whl"))
    if result.returncode != 0 or not wheels:
        reason = (result.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise BadInput(
            f"could not download {WHEEL} from PyPI ({reason}); "
            "download hand_landmarker.task from Google (see README) and pass its path"
        )
    return wheels[0]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
