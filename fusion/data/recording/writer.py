"""Writes the project's recording format (``.mmtm``): a crash-safe single file (layout in ``format.py``).

    with RecordingWriter("take.mmtm", meta={"device": {...}}) as rec:
        rec.set_stream("depth", {"width": 640, "height": 480, "fps": 30, "depth_scale": 0.001})
        rec.write("depth", depth_u16, index=0, host_ns=t)
        rec.add_label("swipe_left", start_ns=t0, end_ns=t1)

Chunks are appended and flushed to the OS every ``flush_s`` seconds, so a writer killed at any
point leaves a file that reads back up to its last complete chunk; ``close()`` appends an index of
every chunk, so a complete file opens without a scan.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from fusion.data.recording import format as fmt
from fusion.data.sample import STREAMS
from fusion.errors import BadInput

APP = "mmtm-live"


class RecordingWriter:
    """Appends samples to a new ``.mmtm`` file; ``close()`` (or leaving the ``with``) finalises it.

    ``lossless``: PNG instead of JPEG for color (depth is always lossless 16-bit PNG).
    ``flush_s``: how often written chunks are handed to the OS (what survives a killed process).
    An existing file is never replaced unless ``overwrite``.
    """

    def __init__(self, path: str | os.PathLike, *, meta: Mapping | None = None, lossless: bool = False,
                 jpeg_quality: int = 90, flush_s: float = 0.25, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.lossless = lossless
        self.jpeg_quality = jpeg_quality
        self.flush_s = flush_s
        try:
            self._file = open(self.path, "wb" if overwrite else "xb")
        except FileExistsError:
            raise BadInput(f"{self.path} already exists; choose another name or overwrite it explicitly") from None
        except OSError as error:
            raise BadInput(f"cannot write {self.path}: {error.strerror or error}") from None
        self._entries: list[tuple[int, int, int, int, int]] = []  # offset, host_ns, index, kind, stream
        self._offset = 0
        self._last_flush = time.monotonic()
        self.frames_written = 0
        self.closed = False
        self._put(fmt.MAGIC)
        header = {"format": "mmtm-recording", "version": fmt.VERSION, "app": APP,
                  "created_unix": time.time(), "codecs": {"color": "png" if lossless else "jpeg",
                                                          "depth": "png16", "audio": "float32le"}}
        header.update(meta or {})
        self._chunk(b"META", fmt.json_bytes(header), kind=1)

    # -- writing ----------------------------------------------------------------------------------

    def add_meta(self, fields: Mapping) -> None:
        """More metadata (device, app, ...); later keys override earlier ones when read."""
        self._chunk(b"META", fmt.json_bytes(dict(fields)), kind=1)

    def set_stream(self, stream: str, info: Mapping) -> None:
        """What is known of a stream: width, height, fps, rate, depth_scale, intrinsics."""
        if stream not in STREAMS:
            raise ValueError(f"unknown stream {stream!r}; expected one of {STREAMS}")
        self._chunk(b"STRM", fmt.json_bytes({**dict(info), "stream": stream}), kind=2,
                    stream=STREAMS.index(stream))

    def write(self, stream: str, data: object, *, index: int, host_ns: int, device_ms: float | None = None) -> int:
        """Append one sample; returns its frame number in the file."""
        payload = fmt.encode_frame(stream, data, index=index, host_ns=host_ns, device_ms=device_ms,
                                   lossless=self.lossless, jpeg_quality=self.jpeg_quality)
        self._chunk(b"FRAM", payload, kind=0, stream=STREAMS.index(stream), index=index, host_ns=host_ns)
        self.frames_written += 1
        return self.frames_written - 1

    def add_label(self, label: str, *, start_ns: int, end_ns: int) -> None:
        """A gesture segment; times on the clock of the frames' ``host_ns``."""
        if end_ns < start_ns:
            raise ValueError(f"label {label!r} ends before it starts")
        self._chunk(b"LABL", fmt.json_bytes({"label": str(label), "start_ns": int(start_ns), "end_ns": int(end_ns)}),
                    kind=3, host_ns=start_ns)

    def flush(self) -> None:
        self._file.flush()
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Append the index and the tail, flush and sync. Idempotent."""
        if self.closed:
            return
        self.closed = True
        try:
            table = np.array(self._entries, dtype=fmt.INDEX_DTYPE) if self._entries else np.zeros(0, fmt.INDEX_DTYPE)
            index_offset = self._offset
            self._put(fmt.chunk(b"INDX", table.tobytes()))
            self._put(fmt.chunk(b"TAIL", fmt.TAIL.pack(index_offset)))
            self._file.flush()
            os.fsync(self._file.fileno())
        finally:
            self._file.close()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------------

    def _chunk(self, tag: bytes, payload: bytes, *, kind: int, stream: int = 0, index: int = 0,
               host_ns: int = 0) -> None:
        if self.closed:
            raise ValueError(f"{self.path} is already closed")
        self._entries.append((self._offset, int(host_ns), int(index), kind, stream))
        self._put(fmt.chunk(tag, payload))
        if time.monotonic() - self._last_flush >= self.flush_s:
            self.flush()

    def _put(self, data: bytes) -> None:
        self._file.write(data)
        self._offset += len(data)
