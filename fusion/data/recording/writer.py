"""Writes the project's recording format (``.mmtm``): a crash-safe single file (layout in ``format.py``).

    with RecordingWriter("take.mmtm", meta={"device": {...}}) as rec:
        rec.set_stream("depth", {"width": 640, "height": 480, "fps": 30, "depth_scale": 0.001})
        rec.write("depth", depth_u16, index=0, host_ns=t)
        rec.add_label("swipe_left", start_ns=t0, end_ns=t1)

Each chunk is handed to the OS as it is written, so a writer killed at any point leaves a file
that reads back up to its last complete chunk; ``close()`` appends an index of every chunk, so a
complete file opens without a scan. A write that fails (a full disk) cuts the file back to its last
whole chunk and raises ``BadInput``; ``close()`` then still tries to add the index, and without
room for it the file reads back by scanning, every frame written included.
"""

from __future__ import annotations

import os
import stat
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
    ``flush_s``: how often the recorder's idle flush runs (chunks reach the OS as they are written).
    An existing file is never replaced unless ``overwrite``, and only a regular file is written.
    ``finalised``: after ``close()``, whether the index could be added.
    """

    def __init__(self, path: str | os.PathLike, *, meta: Mapping | None = None, lossless: bool = False,
                 jpeg_quality: int = 90, flush_s: float = 0.25, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.lossless = lossless
        self.jpeg_quality = jpeg_quality
        self.flush_s = flush_s
        self._file = _create(self.path, overwrite)
        self._entries: list[tuple[int, int, int, int, int]] = []  # offset, host_ns, index, kind, stream
        self._offset = 0  # end of the last whole chunk written
        self._last_flush = time.monotonic()
        self._failed: str | None = None  # why a write failed (the file ends at its last whole chunk)
        self.frames_written = 0
        self.closed = False
        self.finalised = False
        header = {"format": "mmtm-recording", "version": fmt.VERSION, "app": APP,
                  "created_unix": time.time(), "codecs": {"color": "png" if lossless else "jpeg",
                                                          "depth": "png16", "audio": "float32le"}}
        header.update(meta or {})
        try:
            self._put(fmt.MAGIC)
            self._chunk(b"META", fmt.json_bytes(header), kind=1)
        except BaseException as error:
            self._file.close()
            self.path.unlink(missing_ok=True)  # a file without its header is no recording: leave none
            if isinstance(error, BadInput):
                raise BadInput(f"cannot write {self.path}: {self._failed}") from None
            raise

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
        """Chunks reach the OS as they are written; this only marks the time (kept for callers)."""
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Append the index and the tail and sync. Idempotent. BadInput when there was no room for
        the index (the file is cut back to its last frame and reads back by scanning)."""
        if self.closed:
            return
        self.closed = True
        try:
            table = np.array(self._entries, dtype=fmt.INDEX_DTYPE) if self._entries else np.zeros(0, fmt.INDEX_DTYPE)
            index_offset = self._offset
            self._failed = None  # a failed frame write freed its space: try the index all the same
            self._put(fmt.chunk(b"INDX", table.tobytes()) + fmt.chunk(b"TAIL", fmt.TAIL.pack(index_offset)))
            self.finalised = True
            try:
                os.fsync(self._file.fileno())
            except OSError as error:
                raise BadInput(f"cannot write {self.path}: {error.strerror or error} (while syncing it)") from None
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
        offset = self._offset
        self._put(fmt.chunk(tag, payload))
        self._entries.append((offset, int(host_ns), int(index), kind, stream))

    def _put(self, data: bytes) -> None:
        """Write all of ``data`` or, on an error, cut the file back to its last whole chunk and raise."""
        if self._failed is not None:
            raise BadInput(self._message())
        view, done = memoryview(data), 0
        try:
            while done < len(view):
                written = self._file.write(view[done:])
                if not written:
                    raise OSError(f"the write of {len(view) - done} bytes made no progress")
                done += written
        except OSError as error:
            self._fail(error, self._offset)
        self._offset += len(data)

    def _fail(self, error: OSError, good_end: int) -> None:
        try:
            self._file.truncate(good_end)  # frees what the partial chunk took
            self._file.seek(good_end)  # truncate leaves the position where the write stopped
        except OSError:
            pass  # a partial chunk at the end is still read back up to the last whole one
        self._failed = error.strerror or str(error)
        raise BadInput(self._message()) from None

    def _message(self) -> str:
        kept = f"it keeps the {self.frames_written} frames written before" if self.frames_written else "no frame was written"
        return f"cannot write {self.path}: {self._failed}; {kept}"


def _create(path: Path, overwrite: bool):
    """``path`` opened for writing, unbuffered (each chunk reaches the OS whole or not at all);
    BadInput when it exists (unless ``overwrite``) or is not a regular file (a FIFO would block)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL) | getattr(os, "O_BINARY", 0)
    try:
        if overwrite and path.exists() and not path.is_file():
            raise BadInput(f"{path} is not a regular file (a pipe or a device?); a recording must be a file")
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0), 0o666)
    except FileExistsError:
        raise BadInput(f"{path} already exists; choose another name or overwrite it explicitly") from None
    except OSError as error:
        raise BadInput(f"cannot write {path}: {error.strerror or error}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BadInput(f"{path} is not a regular file (a pipe or a device?); a recording must be a file")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return open(fd, "wb", buffering=0)
