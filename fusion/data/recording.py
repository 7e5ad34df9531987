"""The project's own recording format (``.mmtm``): a crash-safe single file, written and read here.

Files only: no threads, no devices (the live recorder in ``app/recorder.py`` writes through
``RecordingWriter``; replay and training read through ``RecordingReader``)::

    with RecordingWriter("take.mmtm", meta={"device": {...}}) as rec:
        rec.set_stream("depth", {"width": 640, "height": 480, "fps": 30, "depth_scale": 0.001})
        rec.write("depth", depth_u16, index=0, host_ns=t)
        rec.add_label("swipe_left", start_ns=t0, end_ns=t1)

    rec = RecordingReader("take.mmtm")
    rec.frame(7)          # random access (Frame: stream, data, index, host_ns, device_ms)
    for f in rec.frames(("color", "depth")): ...

The file is a sequence of append-only chunks, each with its length and CRCs (byte layout in
``recording_format.py`` and docs/recording.md), flushed to the OS every ``flush_s`` seconds. A
writer killed at any point leaves a file that reads back up to its last complete chunk; ``close()``
appends an index of every chunk, so a complete file opens without a scan, and a file without one
(a crash) is scanned instead. Damage raises ``BadInput`` only where nothing can be read;
otherwise the reader keeps what is valid and ``recovery`` says how much that was.
"""

from __future__ import annotations

import json
import math
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np

from fusion.data import recording_format as fmt
from fusion.data.recording_format import SkeletonRecord
from fusion.errors import BadInput

__all__ = ["RecordingWriter", "RecordingReader", "Frame", "LabelSegment", "SkeletonRecord", "SUFFIX"]

SUFFIX = ".mmtm"
APP = "mmtm-live"


@dataclass(frozen=True)
class Frame:
    """One recorded sample; ``data`` as in ``app.sources.base.Sample`` (skeletons as ``SkeletonRecord``)."""

    stream: str
    data: object
    index: int
    host_ns: int
    device_ms: float | None = None


@dataclass(frozen=True)
class LabelSegment:
    """A gesture performed from ``start_ns`` to ``end_ns`` (the clock of the frames' ``host_ns``)."""

    label: str
    start_ns: int
    end_ns: int


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
        if stream not in fmt.STREAMS:
            raise ValueError(f"unknown stream {stream!r}; expected one of {fmt.STREAMS}")
        self._chunk(b"STRM", fmt.json_bytes({**dict(info), "stream": stream}), kind=2,
                    stream=fmt.STREAMS.index(stream))

    def write(self, stream: str, data: object, *, index: int, host_ns: int, device_ms: float | None = None) -> int:
        """Append one sample; returns its frame number in the file."""
        payload = fmt.encode_frame(stream, data, index=index, host_ns=host_ns, device_ms=device_ms,
                                   lossless=self.lossless, jpeg_quality=self.jpeg_quality)
        self._chunk(b"FRAM", payload, kind=0, stream=fmt.STREAMS.index(stream), index=index, host_ns=host_ns)
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


class RecordingReader:
    """Reads a ``.mmtm`` file, complete or not; ``BadInput`` when nothing in it can be read.

    ``meta``: merged metadata; ``streams``: stream name -> info dict; ``labels``: LabelSegments;
    ``complete``: closed cleanly; ``recovery``: one line on what was read and what was lost;
    ``table``: one row per frame (``recording_format.INDEX_DTYPE``). ``len()`` is the frame count.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise BadInput(f"{self.path}: no such file")
        if self.path.is_dir():
            raise BadInput(f"{self.path} is a folder, not a recording")
        try:
            self._file = open(self.path, "rb")
        except OSError as error:
            raise BadInput(f"cannot read {self.path}: {error.strerror or error}") from None
        try:
            self._open()
        except BaseException:
            self._file.close()
            raise

    # -- public -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.table)

    def counts(self) -> dict[str, int]:
        """Frames per stream."""
        ids, n = np.unique(self.table["stream"], return_counts=True)
        return {fmt.STREAMS[i]: int(c) for i, c in zip(ids, n)}

    def frame(self, i: int) -> Frame:
        """Frame ``i`` in file order (random access); BadInput if that frame is damaged."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"frame {i} of {len(self)}")
        offset = int(self.table["offset"][i])
        try:
            payload = self._payload(offset, b"FRAM")
            return _decode(payload)
        except ValueError as error:
            raise BadInput(f"{self.path}: frame {i} (byte {offset}) is damaged: {error}") from None

    def frames(self, streams: Iterable[str] | None = None) -> Iterator[Frame]:
        """Frames in file order, optionally of some streams only; damaged frames are skipped and
        counted in ``skipped``."""
        wanted = None if streams is None else {fmt.STREAMS.index(s) for s in streams if s in fmt.STREAMS}
        for i, row in enumerate(self.table):
            if wanted is not None and int(row["stream"]) not in wanted:
                continue
            try:
                yield _decode(self._payload(int(row["offset"]), b"FRAM"))
            except ValueError:
                self.skipped += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "RecordingReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- opening ----------------------------------------------------------------------------------

    def _open(self) -> None:
        self.size = os.fstat(self._file.fileno()).st_size
        magic = self._file.read(len(fmt.MAGIC))
        if magic != fmt.MAGIC:
            if len(magic) < len(fmt.MAGIC) and fmt.MAGIC.startswith(magic):
                raise BadInput(f"{self.path} is truncated: it ends inside the file header ({self.size} bytes)")
            raise BadInput(f"{self.path} is not an mmtm recording (unknown file header)")
        self.meta: dict = {}
        self.streams: dict[str, dict] = {}
        self.labels: list[LabelSegment] = []
        self.skipped = 0  # damaged frames skipped while reading
        entries = self._read_index()
        self.complete = entries is not None
        lost = ""
        if entries is None:
            entries, lost = self._scan()
        entries = np.asarray(entries, dtype=fmt.INDEX_DTYPE)
        for row in entries[entries["kind"] != 0]:
            try:
                self._apply(int(row["kind"]), self._payload(int(row["offset"]), fmt.KINDS[int(row["kind"])]))
            except ValueError:
                self.skipped += 1
        self.table = entries[entries["kind"] == 0]
        if not self.complete and len(self.table) == 0:
            raise BadInput(f"{self.path} holds no readable frame ({lost or 'it was never finished'})")
        if "format" not in self.meta:
            raise BadInput(f"{self.path} is damaged: its metadata chunk cannot be read")
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items()) or "no frames"
        if self.complete:
            self.recovery = f"complete: {len(self.table)} frames ({counts})"
        else:
            self.recovery = (f"not finalised (the writer did not close it): recovered {len(self.table)} frames "
                             f"({counts}) from {self._good_end} of {self.size} bytes; {lost}")

    def _read_index(self) -> list | None:
        """Entries from the index at the end of a finalised file; None when it is missing or damaged."""
        tail_size = fmt.HEADER.size + fmt.TAIL.size
        if self.size < len(fmt.MAGIC) + tail_size:
            return None
        self._file.seek(self.size - tail_size)
        raw = self._file.read(tail_size)
        head = fmt.parse_header(raw)
        if head is None or head[0] != b"TAIL" or head[1] != fmt.TAIL.size:
            return None
        body = raw[fmt.HEADER.size:]
        if _crc(body) != head[2]:
            return None
        (index_offset,) = fmt.TAIL.unpack(body)
        try:
            table = np.frombuffer(self._payload(index_offset, b"INDX"), dtype=fmt.INDEX_DTYPE)
        except ValueError:
            return None
        if len(table) and (table["offset"].max() >= index_offset or table["kind"].max() >= len(fmt.KINDS)
                           or table["stream"].max() >= len(fmt.STREAMS)):
            return None
        self._good_end = self.size
        return table.copy()

    def _scan(self) -> tuple[list, str]:
        """Entries found by walking the chunks from the start; the reason the walk stopped."""
        entries: list = []
        offset = len(fmt.MAGIC)
        self._file.seek(offset)
        lost = "its writer stopped before the first frame"
        while offset < self.size:
            raw = self._file.read(fmt.HEADER.size)
            head = fmt.parse_header(raw)
            if head is None:
                what = "a partial chunk header" if len(raw) < fmt.HEADER.size else "a damaged chunk header"
                lost = f"{self.size - offset} bytes from byte {offset} ({what}) could not be read"
                break
            tag, length, crc = head
            payload = self._file.read(length)
            if len(payload) < length:
                lost = f"the last chunk (byte {offset}) is cut short: {self.size - offset} bytes lost"
                break
            if tag in fmt.KINDS and _crc(payload) == crc:
                kind = fmt.KINDS.index(tag)
                if kind == 0 and len(payload) >= fmt.FRAME_HEADER.size:
                    stream, _, index, host_ns, _ = fmt.FRAME_HEADER.unpack_from(payload)
                    if stream < len(fmt.STREAMS):
                        entries.append((offset, host_ns, index, 0, stream))
                    else:
                        self.skipped += 1
                elif kind:
                    entries.append((offset, 0, 0, kind, 0))
            elif tag not in (b"INDX", b"TAIL"):
                self.skipped += 1  # a damaged chunk: its header is sound, so the walk goes on
            offset += fmt.HEADER.size + length
        self._good_end = offset
        if entries and lost.startswith("its writer"):
            lost = "no chunk is damaged"
        if self.skipped:
            lost += f"; {self.skipped} damaged chunks skipped"
        return entries, lost

    def _payload(self, offset: int, tag: bytes) -> bytes:
        """The verified payload of the chunk at ``offset``; ValueError when it is damaged."""
        self._file.seek(offset)
        head = fmt.parse_header(self._file.read(fmt.HEADER.size))
        if head is None or head[0] != tag:
            raise ValueError(f"no sound {tag.decode()} chunk header at byte {offset}")
        payload = self._file.read(head[1])
        if len(payload) != head[1] or _crc(payload) != head[2]:
            raise ValueError("checksum mismatch")
        return payload

    def _apply(self, kind: int, payload: bytes) -> None:
        try:
            value = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(str(error)) from None
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        if kind == 1:
            self.meta.update(value)
        elif kind == 2 and value.get("stream") in fmt.STREAMS:
            self.streams[value.pop("stream")] = value
        elif kind == 3:
            self.labels.append(LabelSegment(str(value["label"]), int(value["start_ns"]), int(value["end_ns"])))


def _crc(data: bytes) -> int:
    return zlib.crc32(data)


def _decode(payload: bytes) -> Frame:
    if len(payload) < fmt.FRAME_HEADER.size:
        raise ValueError("frame header is cut short")
    stream, codec, index, host_ns, device_ms = fmt.FRAME_HEADER.unpack_from(payload)
    if stream >= len(fmt.STREAMS):
        raise ValueError(f"unknown stream id {stream}")
    data = fmt.decode_body(codec, payload[fmt.FRAME_HEADER.size:])
    name = fmt.STREAMS[stream]
    if name == "color" and not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 3
                                and data.shape[2] == 3):
        raise ValueError("a color frame that is not an RGB image")
    if name == "depth" and not (isinstance(data, np.ndarray) and data.dtype == np.uint16 and data.ndim == 2):
        raise ValueError("a depth frame that is not a 16-bit single-channel image")
    if name == "skeleton" and not (data is None or isinstance(data, SkeletonRecord)):
        raise ValueError("a skeleton frame without a skeleton")
    if name == "audio" and not (isinstance(data, np.ndarray) and data.dtype == np.float32):
        raise ValueError("an audio frame that is not float32 samples")
    return Frame(fmt.STREAMS[stream], data, index, host_ns, None if math.isnan(device_ms) else device_ms)
