"""A full disk under the writer (issue #18, item 5): a failed write leaves whole chunks only, the
index is added when there is room for it, and a writer that cannot even start leaves no file."""

import numpy as np
import pytest

from fusion.data.recording import RecordingReader, RecordingWriter
from fusion.data.recording import format as fmt
from fusion.errors import BadInput
from tests.fusion.data.recording.tiny_disk import disk  # noqa: F401  (a fixture)

SAMPLES = 1000  # an audio frame: 4000 bytes of body
FRAME_CHUNK = fmt.HEADER.size + fmt.FRAME_HEADER.size + 4 * SAMPLES


def header_size(tmp_path) -> int:
    with RecordingWriter(tmp_path / "probe.mmtm") as rec:
        size = rec._offset
    (tmp_path / "probe.mmtm").unlink()
    return size


def fill(path, frames_that_fit: int, room_after: int, disk, tmp_path):
    """Write audio frames to a disk that holds the header, ``frames_that_fit`` frames and
    ``room_after`` bytes more, until the disk is full; returns the writer and the error."""
    disk(header_size(tmp_path) + frames_that_fit * FRAME_CHUNK + room_after)
    rec = RecordingWriter(path)
    with pytest.raises(BadInput) as error:
        for i in range(frames_that_fit + 5):
            rec.write("audio", np.full(SAMPLES, i / 100, np.float32), index=i, host_ns=i * 1000)
    return rec, str(error.value)


@pytest.mark.parametrize("capacity", [0, 5, 40])
def test_a_disk_full_at_the_start_leaves_no_file(tmp_path, disk, capacity):
    disk(capacity)
    with pytest.raises(BadInput, match="No space left on device"):
        RecordingWriter(tmp_path / "full.mmtm")
    assert not (tmp_path / "full.mmtm").exists()


def test_a_disk_full_while_writing_keeps_whole_frames_and_the_index(tmp_path, disk):
    path = tmp_path / "a.mmtm"
    rec, message = fill(path, 3, FRAME_CHUNK // 2, disk, tmp_path)  # the 4th frame is cut: room for the index
    assert message.endswith("No space left on device; it keeps the 3 frames written before")
    with pytest.raises(BadInput, match="No space left"):  # the writer stays failed
        rec.write("audio", np.zeros(4, np.float32), index=9, host_ns=9)
    rec.close()
    assert rec.finalised
    with RecordingReader(path) as r:
        assert r.complete and [f.index for f in r.frames()] == [0, 1, 2] and r.skipped == 0


def test_no_room_for_the_index_leaves_a_file_read_by_scanning(tmp_path, disk):
    path = tmp_path / "b.mmtm"
    rec, _ = fill(path, 3, 10, disk, tmp_path)
    with pytest.raises(BadInput, match="No space left on device; it keeps the 3 frames"):
        rec.close()
    assert not rec.finalised and rec.closed
    rec.close()  # idempotent, also after a failure
    with RecordingReader(path) as r:
        assert not r.complete and [f.index for f in r.frames()] == [0, 1, 2]
        assert "no chunk is damaged" in r.recovery and r.skipped == 0
