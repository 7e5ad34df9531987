"""Pacer: replays paced on their own clock, paused and stepped; live sources never blocked."""

import threading
import time

import pytest

from app.engine.pacer import Pacer
from app.sources.base import now_ns
from fusion.data.sample import Sample


def sample(stream, index, device_ms):
    return Sample(stream, None, index, host_ns=now_ns(), device_ms=device_ms)


def test_a_replay_is_paced_at_its_recorded_rate_and_restamped():
    pacer = Pacer(realtime=True, blocking=True, start_s=0.0, paused=False)
    start = time.monotonic()
    admitted = [pacer.admit(sample("depth", i, 1000.0 + 50.0 * i), reference=True) for i in range(5)]
    assert time.monotonic() - start >= 0.19  # 4 periods of 50 ms
    hosts = [s.host_ns for s in admitted]
    assert (hosts[-1] - hosts[0]) / 1e6 == pytest.approx(200, abs=30)  # released on time, stamped then


def test_a_paused_replay_waits_for_a_step_and_lets_the_partners_of_the_stepped_frame_through():
    pacer = Pacer(realtime=False, blocking=True, start_s=0.0, paused=True)
    got = []

    def reader():
        for i in range(3):
            got.append(pacer.admit(sample("depth", i, 33.0 * i), reference=True))
            got.append(pacer.admit(sample("color", i, 33.0 * i), reference=False))

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.3)
    assert got == []  # paused: the file reader waits
    pacer.step(1)
    deadline = time.monotonic() + 2
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert [(s.stream, s.index) for s in got] == [("depth", 0), ("color", 0)]  # one frame set, then waits
    pacer.stop()
    thread.join(timeout=2)
    assert not thread.is_alive() and got[2:] == [None] * 4  # stopping releases the reader and drops the rest


def test_a_paused_live_source_is_never_blocked_its_frames_are_dropped():
    pacer = Pacer(realtime=True, blocking=False, start_s=0.0, paused=True)
    start = time.monotonic()
    assert pacer.admit(sample("color", 0, None), reference=True) is None
    pacer.step(1)
    kept = pacer.admit(sample("color", 1, None), reference=True)
    assert kept is not None and kept.index == 1
    assert pacer.admit(sample("color", 2, None), reference=True) is None
    assert time.monotonic() - start < 0.1
    pacer.set_paused(False)
    assert pacer.admit(sample("color", 3, None), reference=True).index == 3


@pytest.mark.timeout(30)
def test_a_jump_of_the_recorded_clock_is_waited_at_most_the_cap(monkeypatch, capsys):
    import app.sources.recording

    monkeypatch.setattr(app.sources.recording, "MAX_GAP_S", 0.2)
    pacer = Pacer(realtime=True, blocking=True, start_s=0.0, paused=False)
    start = time.monotonic()
    times = [1000.0, 1050.0, 1050.0 + 1e12, 1050.0 + 1e12 + 50.0]  # 10^18 ns = 31 years ahead, then on
    admitted = [pacer.admit(sample("depth", i, t), reference=True) for i, t in enumerate(times)]
    took = time.monotonic() - start
    assert all(s is not None for s in admitted) and 0.25 <= took < 1.5  # 50 ms + the 0.2 s cap + 50 ms
    assert pacer.gaps.capped == 1
    assert capsys.readouterr().err.count("its clock jumps 1e+09 s ahead; replay waits 0.2 s there instead") == 1
