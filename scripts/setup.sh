#!/usr/bin/env bash
# Set up mmtm-live on a fresh Debian/Ubuntu machine: system libraries, a virtual environment in
# .venv, PyTorch, the project and its dev extra. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
ldconfig -p | grep -q 'libusb-1.0.so.0' || need+=(libusb-1.0-0)     # pyrealsense2
ldconfig -p | grep -q 'libportaudio.so.2' || need+=(libportaudio2)  # sounddevice
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
    # The CPU build; a plain 'torch' would pull a multi-GB CUDA build. Use your own torch for a GPU.
    .venv/bin/python -c 'import torch' 2>/dev/null || .venv/bin/python -m pip install -q torch==2.13.0 >&2
    .venv/bin/python -m pip install -q -e '.[dev]' >&2
    touch "$stamp"
fi
