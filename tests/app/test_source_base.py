import pytest

from app.sources.base import SourceThread, now_ns

from fusion.data.sample import Sample, StreamInfo
from fusion.errors import BadInput


class Counting(SourceThread):
    name = "counting"

    def __init__(self, *, sink, frames=3, fail_open=False, fail_run=False):
        super().__init__(sink=sink)
        self.opens = 0
        self.frames, self.fail_open, self.fail_run = frames, fail_open, fail_run

    def _open(self):
        self.opens += 1
        if self.fail_open:
            raise BadInput("cannot open")
        self.stream_info = {"color": StreamInfo("color", 4, 3, 30.0)}

    def _run(self):
        for i in range(self.frames):
            if self.stopping:
                return
            self.emit(Sample("color", None, i, now_ns()))
        if self.fail_run:
            raise RuntimeError("device exploded")


def test_open_fills_stream_info_once_and_start_opens_if_needed():
    got = []
    source = Counting(sink=got.append)
    source.open()
    assert "color" in source.stream_info
    source.start()
    source.join(timeout=5)
    assert source.opens == 1 and [s.index for s in got] == [0, 1, 2]
    assert source.finished.is_set()

    lazy = Counting(sink=lambda s: None)
    lazy.start()
    lazy.join(timeout=5)
    assert lazy.opens == 1


def test_open_errors_raise_in_the_caller_and_run_errors_reach_join():
    with pytest.raises(BadInput, match="cannot open"):
        Counting(sink=lambda s: None, fail_open=True).start()
    source = Counting(sink=lambda s: None, fail_run=True)
    source.start()
    with pytest.raises(RuntimeError, match="exploded"):
        source.join(timeout=5)
    source.join(timeout=5)  # the error is raised once


def test_start_twice_is_an_error():
    source = Counting(sink=lambda s: None, frames=0)
    source.start()
    with pytest.raises(RuntimeError, match="already started"):
        source.start()
    source.join(timeout=5)
