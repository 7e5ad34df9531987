#!/usr/bin/env bash
# Set up mmtm-live on a fresh Debian/Ubuntu machine: system libraries, a virtual environment in
# .venv, PyTorch, the project and its dev extra. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# soname:package for each system library the project loads; a package is installed only when its
# library is missing. pyrealsense2 needs libusb, sounddevice PortAudio; the window needs what
# PyQt6's xcb platform plugin links (ldd of Qt6/plugins/platforms/libqxcb.so and libQt6XcbQpa.so.6;
# without them Qt aborts, blaming the plugin). app/ui/run.py checks the same list before Qt starts.
libraries=(
    libusb-1.0.so.0:libusb-1.0-0 libportaudio.so.2:libportaudio2
    libxcb-icccm.so.4:libxcb-icccm4 libxcb-keysyms.so.1:libxcb-keysyms1
    libxcb-cursor.so.0:libxcb-cursor0 libxkbcommon-x11.so.0:libxkbcommon-x11-0
    libxkbcommon.so.0:libxkbcommon0 libxcb-image.so.0:libxcb-image0
    libxcb-util.so.1:libxcb-util1 libxcb-randr.so.0:libxcb-randr0
    libxcb-render-util.so.0:libxcb-render-util0 libxcb-render.so.0:libxcb-render0
    libxcb-shm.so.0:libxcb-shm0 libxcb-sync.so.1:libxcb-sync1 libxcb-xfixes.so.0:libxcb-xfixes0
    libxcb-shape.so.0:libxcb-shape0 libxcb-xkb.so.1:libxcb-xkb1 libxcb.so.1:libxcb1
    libX11-xcb.so.1:libx11-xcb1 libX11.so.6:libx11-6 libGL.so.1:libgl1
    libEGL.so.1:libegl1 libfontconfig.so.1:libfontconfig1 libglib-2.0.so.0:libglib2.0-0
)
# ldconfig lives in /sbin, which a normal user's PATH may lack. Its cache is read whole, once (a
# grep -q on its pipe could end it early, and pipefail would then call a present library missing).
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
known=$("$ldconfig" -p | awk 'NR > 1 { print $1 }')
need=()
for entry in "${libraries[@]}"; do
    grep -qxF "${entry%%:*}" <<<"$known" || need+=("${entry#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ${need[*]}" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=.venv/.mmtm-live-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: installing Python packages into .venv" >&2
    .venv/bin/python -m pip install -q --upgrade pip >&2
    # torch==2.13.0 as pip resolves it: the CPU build where a CPU wheel is at hand (a local wheel
    # store), else PyPI's, which on Linux x86-64 is the CUDA build (several GB). For the CPU build
    # anywhere: TORCH_INDEX=https://download.pytorch.org/whl/cpu scripts/setup.sh
    .venv/bin/python -c 'import torch' 2>/dev/null ||
        .venv/bin/python -m pip install -q ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} torch==2.13.0 >&2
    .venv/bin/python -m pip install -q -e '.[dev]' >&2
    touch "$stamp"
fi
