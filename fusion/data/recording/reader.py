"""Reads the project's recording format (``.mmtm``), complete or not (layout in ``format.py``).

    rec = RecordingReader("take.mmtm")
    rec.frame(7)          # random access: a fusion.data.sample.Sample
    for sample in rec.frames(("color", "depth")): ...

A complete file opens from the index its writer appended; a file without one (a crash) is scanned
chunk by chunk instead. Damage raises ``BadInput`` only where nothing can be read; otherwise the
reader keeps what is valid and ``recovery`` says how much that was.
"""

from __future__ import annotations

import math
import os
import re
import stat
import zlib
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from fusion.data.recording import format as fmt
from fusion.data.recording.values import LabelSegment, json_object, label_segment, stream_info
from fusion.data.sample import STREAMS, Sample
from fusion.errors import BadInput


class RecordingReader:
    """Reads a ``.mmtm`` file, complete or not; ``BadInput`` when nothing in it can be read.

    ``meta``: merged metadata; ``streams``: stream name -> info dict; ``labels``: LabelSegments;
    ``complete``: closed cleanly; ``recovery``: one line on what was read and what was lost;
    ``table``: one row per frame (``recording_format.INDEX_DTYPE``). ``len()`` is the frame count.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._file = open_regular_file(self.path)
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
            return self._decode(self._payload(offset, b"FRAM"), int(self.table["stream"][i]))
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
                frame = self._decode(self._payload(int(row["offset"]), b"FRAM"), int(row["stream"]))
            except ValueError as error:
                self.skipped += 1
                self._note_bad_frame(str(error))
                continue
            yield frame

    @property
    def recovery(self) -> str:
        """One line: what was read and what was lost (damaged frames as they are met)."""
        if not self._bad_frames[0]:
            return self._recovery
        n, first = self._bad_frames
        return f"{self._recovery}; {n} damaged frame{'s' * (n > 1)} skipped (first: {first})"

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
        self.skipped = 0  # damaged chunks skipped while reading (frames, and others at opening)
        self._lost: dict[str, list] = {}  # what a damaged or invalid chunk took with it: [count, first reason]
        self._bad_frames: list = [0, ""]  # frames found damaged while reading: count, first reason
        self._index_damaged = False
        entries = self._read_index()
        self.complete = entries is not None
        cut = ""
        if entries is None:
            entries, cut = self._scan()
        entries = np.asarray(entries, dtype=fmt.INDEX_DTYPE)
        for row in entries[entries["kind"] != 0]:
            kind = int(row["kind"])
            try:
                self._apply(kind, self._payload(int(row["offset"]), fmt.KINDS[kind]))
            except ValueError as error:
                self.skipped += 1
                self._lose(CHUNK_LOSS[kind], str(error))
        self.table = entries[entries["kind"] == 0]
        self._sizes = {name: (int(info.get("width", 0)), int(info.get("height", 0)))
                       for name, info in self.streams.items()}
        if not self.complete and len(self.table) == 0:
            raise BadInput(f"{self.path} holds no readable frame ({cut or 'it was never finished'})")
        if "format" not in self.meta:
            if len(self.table) == 0:
                raise BadInput(f"{self.path} is damaged: its metadata chunk cannot be read and it holds no frame")
            if CHUNK_LOSS[1] not in self._lost:
                self._lose(CHUNK_LOSS[1], "missing")
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items()) or "no frames"
        if self.complete:
            self._recovery = f"complete: {len(self.table)} frames ({counts})"
        else:
            why = ("its index is damaged, read by scanning" if self._index_damaged
                   else "not finalised (the writer did not close it)")
            self._recovery = (f"{why}: recovered {len(self.table)} frames ({counts}) from {self._good_end} of "
                              f"{self.size} bytes; {cut}")
        if self._lost:
            self._recovery += "; lost: " + ", ".join(f"{n} {what} ({why})" for what, (n, why) in self._lost.items())

    def _lose(self, what: str, why: str) -> None:
        entry = self._lost.setdefault(what, [0, why[:80]])
        entry[0] += 1

    def _note_bad_frame(self, why: str) -> None:
        if not self._bad_frames[0]:
            self._bad_frames[1] = why[:100]
        self._bad_frames[0] += 1

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
        self._index_damaged = True  # until the index proves sound
        (index_offset,) = fmt.TAIL.unpack(body)
        try:
            table = np.frombuffer(self._payload(index_offset, b"INDX"), dtype=fmt.INDEX_DTYPE)
        except ValueError:
            return None
        offsets = table["offset"]
        if len(table) and (offsets[0] < len(fmt.MAGIC) or offsets[-1] >= index_offset
                           or (np.diff(offsets) < fmt.HEADER.size).any()  # in file order, one row per chunk
                           or table["kind"].max() >= len(fmt.KINDS) or table["stream"].max() >= len(STREAMS)):
            return None
        self._index_damaged = False
        self._good_end = self.size
        return table.copy()

    def _scan(self) -> tuple[list, str]:
        """Entries found by walking the chunks from the start; what the walk could not read.

        A damaged chunk header is passed over to the next sound one (found by its kind and header
        checksum), so damage in the middle of a file without an index costs only what it hit."""
        entries: list = []
        offset = len(fmt.MAGIC)
        self._file.seek(offset)
        lost = "its writer stopped before the first frame"
        stretches = 0  # damaged stretches passed over
        stretch_bytes = 0
        while offset < self.size:
            raw = self._file.read(fmt.HEADER.size)
            head = fmt.parse_header(raw)
            if head is None:
                resume = self._resync(offset + 1) if len(raw) == fmt.HEADER.size else None
                if resume is not None:
                    stretches += 1
                    stretch_bytes += resume - offset
                    offset = resume
                    self._file.seek(offset)
                    continue
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
                if kind == 0:
                    if len(payload) >= fmt.FRAME_HEADER.size and payload[0] < len(STREAMS):
                        _, _, index, host_ns, _ = fmt.FRAME_HEADER.unpack_from(payload)
                        entries.append((offset, host_ns, index, 0, payload[0]))
                    else:
                        self.skipped += 1
                else:
                    entries.append((offset, 0, 0, kind, 0))
            elif tag not in (b"INDX", b"TAIL"):
                self.skipped += 1  # a damaged chunk: its header is sound, so the walk goes on
            offset += fmt.HEADER.size + length
        self._good_end = offset
        if entries and lost.startswith("its writer"):
            lost = "no chunk is damaged"
        if stretches:
            lost += f"; {stretches} damaged stretches ({stretch_bytes} bytes) passed over"
        if self.skipped:
            lost += f"; {self.skipped} damaged chunks skipped"
        return entries, lost

    def _resync(self, start: int) -> int | None:
        """Offset of the first sound chunk header at or after ``start``, or None."""
        window = 1 << 20
        while start < self.size - fmt.HEADER.size:
            self._file.seek(start)
            buf = self._file.read(window + fmt.HEADER.size)
            for match in RESYNC.finditer(buf):
                if fmt.parse_header(buf[match.start():match.start() + fmt.HEADER.size]) is not None:
                    return start + match.start()
            start += window
        return None

    def _payload(self, offset: int, tag: bytes) -> bytes:
        """The verified payload of the chunk at ``offset``; ValueError when it is damaged."""
        if not 0 <= offset <= self.size - fmt.HEADER.size:
            raise ValueError(f"a chunk at byte {offset}, beyond the end of the file")
        self._file.seek(offset)
        head = fmt.parse_header(self._file.read(fmt.HEADER.size))
        if head is None or head[0] != tag:
            raise ValueError(f"no sound {tag.decode()} chunk header at byte {offset}")
        payload = self._file.read(head[1])
        if len(payload) != head[1] or _crc(payload) != head[2]:
            raise ValueError("checksum mismatch")
        return payload

    def _apply(self, kind: int, payload: bytes) -> None:
        """Merge a META, STRM or LABL chunk; ValueError (with the reason) when its values are invalid."""
        value = json_object(payload)
        if kind == 1:
            self.meta.update(value)
        elif kind == 2:
            stream = value.pop("stream", None)
            if stream not in STREAMS:
                raise ValueError(f"unknown stream {str(stream)[:20]!r}")
            info, bad = stream_info(value)
            for field in bad:
                self._lose(f"{stream} stream {field}", f"{str(value[field])[:20]!r}")
            self.streams[stream] = info
        elif kind == 3:
            self.labels.append(label_segment(value))

    def _decode(self, payload: bytes, stream_id: int) -> Sample:
        """The sample in a FRAM payload; ValueError when it is damaged or its values are invalid."""
        if len(payload) < fmt.FRAME_HEADER.size:
            raise ValueError("frame header is cut short")
        stream, codec, index, host_ns, device_ms = fmt.FRAME_HEADER.unpack_from(payload)
        if stream != stream_id:
            raise ValueError(f"a frame of stream id {stream} where the index says {stream_id}")
        name = STREAMS[stream]
        if math.isinf(device_ms):
            raise ValueError("an infinite device time")
        data = fmt.decode_body(codec, payload[fmt.FRAME_HEADER.size:], stream=name, size=self._sizes.get(name))
        if name == "color" and not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 3
                                    and data.shape[2] == 3):
            raise ValueError("a color frame that is not an RGB image")
        if name == "depth" and not (isinstance(data, np.ndarray) and data.dtype == np.uint16 and data.ndim == 2):
            raise ValueError("a depth frame that is not a 16-bit single-channel image")
        return Sample(name, data, index, host_ns, None if math.isnan(device_ms) else device_ms)


RESYNC = re.compile(b"|".join(fmt.KINDS + (b"INDX", b"TAIL")))
CHUNK_LOSS = {1: "metadata chunk", 2: "stream description", 3: "label segment"}
def open_regular_file(path: Path):
    """``path`` opened for reading; BadInput unless it is a regular file (a FIFO or a device would
    block or never end). Opened without blocking, so a FIFO swapped in after the check cannot hang."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror or error}") from None
    if stat.S_ISDIR(mode):
        raise BadInput(f"{path} is a folder, not a recording")
    if not stat.S_ISREG(mode):
        raise BadInput(f"{path} is not a regular file (a pipe or a device?), not a recording")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror or error}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BadInput(f"{path} is not a regular file (a pipe or a device?), not a recording")
    return os.fdopen(fd, "rb")


def _crc(data: bytes) -> int:
    return zlib.crc32(data)
