"""A preallocated ring buffer of frames that hands out the latest window as one contiguous slice.

Frame ``k`` is written at row ``k % capacity``, and the first ``max_window - 1`` rows are
mirrored after the end (rows ``capacity ...``), so the latest ``T <= max_window`` frames are
always the slice ``[s, s + T)`` with ``s = (count - T) % capacity``: no gather, no copy frame by
frame, and only ``(max_window - 1) / capacity`` of the frames are written twice::

    buf = RingBuffer(capacity=64, shape=(112, 112, 3), dtype=np.uint8, preprocess=resize, max_window=16)
    buf.push(frame, index=i, host_ns=t)      # writer thread: preprocess once, write, publish
    win = buf.latest(16)                     # reader: one copy of a contiguous (16, ...) slice
    view = buf.window(16)                    # reader: zero copy; check view.valid() after use

One writer and any number of readers: the writer fills a slot that is not published yet and
then publishes it under a lock; a reader takes the slice and checks afterwards that the writer
has not come round to it (a window never includes the slot being written, as ``T < capacity``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

Preprocess = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Window:
    """The latest ``T`` frames: ``data`` (T, *shape), ``valid`` (T,) bool (False: pushed as None),
    ``index`` and ``host_ns`` (T,) int64, ``first``: the frame number (0-based push count) of row 0."""

    data: np.ndarray
    present: np.ndarray
    index: np.ndarray
    host_ns: np.ndarray
    first: int
    _buffer: "RingBuffer"

    def valid(self) -> bool:
        """True while no row of a zero-copy window has been overwritten (always True for copies)."""
        return self._buffer._intact(self.first)


class RingBuffer:
    """Latest frames of one stream; overwrite-oldest; counts drops and frames overwritten unread."""

    def __init__(self, *, capacity: int, shape: tuple[int, ...], dtype: np.dtype | type = np.float32,
                 preprocess: Preprocess | None = None, max_window: int | None = None) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        max_window = capacity - 1 if max_window is None else max_window
        if not 0 < max_window < capacity:
            raise ValueError(f"max_window must be in [1, capacity - 1], not {max_window}")
        self.capacity = capacity
        self.max_window = max_window
        self._mirror = max_window - 1  # rows [0, _mirror) are also written at row + capacity
        rows = capacity + self._mirror
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.preprocess = preprocess
        self._data = np.empty((rows, *self.shape), self.dtype)  # (C + max_window - 1, *shape)
        self._data.fill(0)  # touch every page now, not on the hot path
        self._present = np.zeros(rows, bool)
        self._index = np.zeros(rows, np.int64)
        self._host_ns = np.zeros(rows, np.int64)
        self._lock = threading.Condition()
        self.count = 0  # frames published
        self.dropped = 0  # frames the source skipped (gaps in ``index``)
        self.overwritten_unread = 0  # frames overwritten before any window included them
        self._read_upto = 0  # frames [0, _read_upto) have been handed out in some window
        self._last_index: int | None = None
        self._closed = False

    # -- writer -----------------------------------------------------------------------------------

    def push(self, frame: np.ndarray | None, *, index: int, host_ns: int) -> None:
        """Preprocess and append one frame (None: a frame without data, e.g. no hand found)."""
        slot = self.count % self.capacity
        rows = (slot, slot + self.capacity) if slot < self._mirror else (slot,)
        if frame is not None:
            frame = self.preprocess(frame) if self.preprocess is not None else frame
            if frame.shape != self.shape or frame.dtype != self.dtype:
                raise ValueError(f"a {frame.dtype} frame of shape {frame.shape} for a buffer of "
                                 f"{self.dtype} {self.shape}")
        for row in rows:
            self._data[row] = frame if frame is not None else 0
            self._present[row] = frame is not None
            self._index[row] = index
            self._host_ns[row] = host_ns
        with self._lock:
            if self._last_index is not None and index > self._last_index + 1:
                self.dropped += index - self._last_index - 1
            self._last_index = index
            overwritten = self.count - self.capacity
            if overwritten >= self._read_upto:
                self.overwritten_unread += 1
                self._read_upto = overwritten + 1
            self.count += 1
            self._lock.notify_all()

    def push_block(self, block: np.ndarray, *, index: int, host_ns: int, period_ns: float) -> None:
        """Append ``N`` consecutive frames at once (audio: (N,) samples; no preprocessing), frame
        ``k`` numbered ``index + k`` and stamped ``host_ns + k * period_ns``."""
        n = len(block)
        if block.shape[1:] != self.shape:
            raise ValueError(f"block of frames {block.shape[1:]} for a buffer of {self.shape}")
        if n >= self.capacity:
            raise ValueError(f"a block of {n} frames for a buffer of capacity {self.capacity}")
        slots = (self.count + np.arange(n)) % self.capacity
        indices = index + np.arange(n)
        stamps = host_ns + (np.arange(n) * period_ns).astype(np.int64)
        mirrored = slots < self._mirror
        for rows, part in ((slots, slice(None)), (slots[mirrored] + self.capacity, mirrored)):
            self._data[rows] = block[part]
            self._present[rows] = True
            self._index[rows] = indices[part]
            self._host_ns[rows] = stamps[part]
        with self._lock:
            if self._last_index is not None and index > self._last_index + 1:
                self.dropped += index - self._last_index - 1
            self._last_index = index + n - 1
            overwritten_end = self.count + n - self.capacity  # frames [.., overwritten_end) are gone
            if overwritten_end > self._read_upto:
                self.overwritten_unread += overwritten_end - max(self._read_upto, self.count - self.capacity, 0)
                self._read_upto = overwritten_end
            self.count += n
            self._lock.notify_all()

    def close(self) -> None:
        """Wake every reader blocked in ``wait_for``."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    # -- readers ----------------------------------------------------------------------------------

    def wait_for(self, count: int, timeout: float | None = None) -> bool:
        """Block until at least ``count`` frames were pushed; False on timeout or ``close()``."""
        with self._lock:
            self._lock.wait_for(lambda: self.count >= count or self._closed, timeout)
            return self.count >= count

    def window(self, length: int) -> Window:
        """The latest ``length`` frames as views into the buffer (zero copy; see ``Window.valid``)."""
        if not 0 < length <= self.max_window:
            raise ValueError(f"a window of {length} frames; this buffer gives 1 to {self.max_window}")
        with self._lock:
            count = self.count
            if count < length:
                raise LookupError(f"only {count} of {length} frames so far")
            first = count - length
            self._read_upto = max(self._read_upto, count)
        s = first % self.capacity
        sl = slice(s, s + length)
        return Window(self._data[sl], self._present[sl], self._index[sl], self._host_ns[sl], first, self)

    def latest(self, length: int, *, out: np.ndarray | None = None, retries: int = 8) -> Window:
        """The latest ``length`` frames copied out (one contiguous copy per array)."""
        for _ in range(retries):
            view = self.window(length)
            if out is None:
                data = view.data.copy()
            else:
                np.copyto(out, view.data)
                data = out
            present, index, host_ns = view.present.copy(), view.index.copy(), view.host_ns.copy()
            if view.valid():
                return Window(data, present, index, host_ns, view.first, _COPIED)
        raise RuntimeError(f"the writer overwrote the window {retries} times while it was copied")

    def _intact(self, first: int) -> bool:
        # the writer may be filling frame ``count`` (it replaces frame count - capacity)
        return self.count - self.capacity < first

    def stats(self) -> dict:
        return {"frames": self.count, "dropped": self.dropped, "overwritten_unread": self.overwritten_unread}


class _Copied:
    @staticmethod
    def _intact(first: int) -> bool:
        return True


_COPIED = _Copied()
