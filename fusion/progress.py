"""A minimal text progress bar on stderr for long-running commands."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``update(done, extra)`` redraws ``label [#####     ] done/total extra elapsed eta`` on one line,
    at most every ``every_s`` seconds (and always at the end), so a log file stays readable."""

    def __init__(self, total: int, *, label: str = "", stream: TextIO | None = None, width: int = 30,
                 every_s: float = 0.25):
        self.total, self.label, self.width = max(total, 1), label, width
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.monotonic()
        self.every_s = every_s
        self._drawn = -every_s

    def update(self, done: int, extra: str = "") -> None:
        elapsed = time.monotonic() - self.start
        if done < self.total and elapsed - self._drawn < self.every_s:
            return
        self._drawn = elapsed
        fill = int(self.width * done / self.total)
        eta = elapsed / done * (self.total - done) if done else 0.0
        self.stream.write(f"\r{self.label} [{'#' * fill}{' ' * (self.width - fill)}] {done}/{self.total} "
                          f"{extra + ' ' if extra else ''}{elapsed:5.1f}s eta {eta:5.1f}s")
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()
