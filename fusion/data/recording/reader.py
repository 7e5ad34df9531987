"""Reads the project's recording format (``.mmtm``), complete or not (layout in ``format.py``).

    rec = RecordingReader("take.mmtm")
    rec.frame(7)          # random access: a fusion.data.sample.Sample
    for sample in rec.frames(("color", "depth")): ...

A complete file opens from the index its writer appended; a file without one (a crash) is scanned
chunk by chunk instead. Damage raises ``BadInput`` only where nothing can be read; otherwise the
reader keeps what is valid and ``recovery`` says how much that was.
"""

from __future__ import annotations

import json
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from fusion.data.recording import format as fmt
from fusion.data.sample import STREAMS, Sample, Skeleton
from fusion.errors import BadInput


@dataclass(frozen=True)
class LabelSegment:
    """A gesture performed from ``start_ns`` to ``end_ns`` (the clock of the frames' ``host_ns``)."""

    label: str
    start_ns: int
    end_ns: int


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
        return {STREAMS[i]: int(c) for i, c in zip(ids, n)}

    def frame(self, i: int) -> Sample:
        """Frame ``i`` in file order (random access); BadInput if that frame is damaged."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"frame {i} of {len(self)}")
        offset = int(self.table["offset"][i])
        try:
            payload = self._payload(offset, b"FRAM")
            return _decode(payload)
        except ValueError as error:
            raise BadInput(f"{self.path}: frame {i} (byte {offset}) is damaged: {error}") from None

    def frames(self, streams: Iterable[str] | None = None) -> Iterator[Sample]:
        """Frames in file order, optionally of some streams only; damaged frames are skipped and
        counted in ``skipped``."""
        wanted = None if streams is None else {STREAMS.index(s) for s in streams if s in STREAMS}
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
                           or table["stream"].max() >= len(STREAMS)):
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
                    if stream < len(STREAMS):
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
        elif kind == 2 and value.get("stream") in STREAMS:
            self.streams[value.pop("stream")] = value
        elif kind == 3:
            self.labels.append(LabelSegment(str(value["label"]), int(value["start_ns"]), int(value["end_ns"])))


def _crc(data: bytes) -> int:
    return zlib.crc32(data)


def _decode(payload: bytes) -> Sample:
    if len(payload) < fmt.FRAME_HEADER.size:
        raise ValueError("frame header is cut short")
    stream, codec, index, host_ns, device_ms = fmt.FRAME_HEADER.unpack_from(payload)
    if stream >= len(STREAMS):
        raise ValueError(f"unknown stream id {stream}")
    data = fmt.decode_body(codec, payload[fmt.FRAME_HEADER.size:])
    name = STREAMS[stream]
    if name == "color" and not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 3
                                and data.shape[2] == 3):
        raise ValueError("a color frame that is not an RGB image")
    if name == "depth" and not (isinstance(data, np.ndarray) and data.dtype == np.uint16 and data.ndim == 2):
        raise ValueError("a depth frame that is not a 16-bit single-channel image")
    if name == "skeleton" and not (data is None or isinstance(data, Skeleton)):
        raise ValueError("a skeleton frame without a skeleton")
    if name == "audio" and not (isinstance(data, np.ndarray) and data.dtype == np.float32):
        raise ValueError("an audio frame that is not float32 samples")
    return Sample(STREAMS[stream], data, index, host_ns, None if math.isnan(device_ms) else device_ms)
