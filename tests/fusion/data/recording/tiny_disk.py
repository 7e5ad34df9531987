"""A disk that fills up, for the writer's and the recorder's tests (no real file system needed)."""

import errno
import os

import pytest

from fusion.data.recording import writer as writer_module


class TinyDisk:
    """The writer's raw file on a disk with room for ``capacity`` bytes: a write past it writes
    what fits (a short write, as a file system does) and the next one fails with ENOSPC."""

    def __init__(self, raw, capacity: int) -> None:
        self.raw, self.capacity = raw, capacity

    def write(self, data) -> int:
        end = max(os.fstat(self.raw.fileno()).st_size, self.raw.tell())
        room = self.capacity - end
        if room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.raw.write(bytes(data[:room]))

    def __getattr__(self, name):
        return getattr(self.raw, name)


@pytest.fixture
def disk(monkeypatch):
    """``disk(capacity)``: RecordingWriters made afterwards write to a disk of that size."""
    def set_capacity(capacity: int) -> None:
        create = writer_module._create
        monkeypatch.setattr(writer_module, "_create", lambda path, overwrite: TinyDisk(create(path, overwrite), capacity))
    return set_capacity
