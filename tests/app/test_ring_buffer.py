import threading
import time

import numpy as np
import pytest

from app.ring_buffer import RingBuffer


def test_latest_window_is_one_contiguous_slice_in_order():
    buf = RingBuffer(capacity=5, shape=(3,), dtype=np.int32)
    for i in range(13):
        buf.push(np.full(3, i, np.int32), index=i, host_ns=100 * i)
        if i >= 3:
            view = buf.window(4)
            assert view.data.base is buf._data  # a view, no copy
            assert view.data.flags["C_CONTIGUOUS"]
            assert view.data[:, 0].tolist() == list(range(i - 3, i + 1))
            assert view.index.tolist() == list(range(i - 3, i + 1))
            assert view.host_ns.tolist() == [100 * k for k in range(i - 3, i + 1)]
            assert view.first == i - 3 and view.valid()


def test_preprocess_runs_once_per_frame_on_arrival():
    calls = []

    def prep(frame):
        calls.append(1)
        return frame[::2, ::2].astype(np.float32) / 255  # (4, 4, 3) uint8 -> (2, 2, 3) float32

    buf = RingBuffer(capacity=4, shape=(2, 2, 3), dtype=np.float32, preprocess=prep)
    for i in range(3):
        buf.push(np.full((4, 4, 3), 255, np.uint8), index=i, host_ns=i)
    for _ in range(5):
        win = buf.latest(3)
    assert len(calls) == 3 and win.data.shape == (3, 2, 2, 3) and np.all(win.data == 1.0)
    with pytest.raises(ValueError, match="shape"):
        RingBuffer(capacity=4, shape=(3, 3, 3), preprocess=prep).push(np.zeros((4, 4, 3), np.uint8), index=0, host_ns=0)
    with pytest.raises(ValueError, match="float64 frame"):  # never a silent cast
        RingBuffer(capacity=4, shape=(2,), dtype=np.uint8).push(np.zeros(2), index=0, host_ns=0)


def test_none_frames_are_absent_and_drops_and_unread_overwrites_counted():
    buf = RingBuffer(capacity=4, shape=(2,), dtype=np.float32)
    buf.push(np.ones(2, np.float32), index=0, host_ns=0)
    buf.push(None, index=1, host_ns=1)
    buf.push(np.ones(2, np.float32), index=5, host_ns=2)  # frames 2..4 were never delivered
    win = buf.latest(3)
    assert win.present.tolist() == [True, False, True] and win.data[1].tolist() == [0, 0]
    assert buf.dropped == 3
    for i in range(6, 12):  # frames 3..8: they overwrite frames 0..2 (read above) and 3, 4 (never read)
        buf.push(np.ones(2, np.float32), index=i, host_ns=i)
    assert buf.stats() == {"frames": 9, "dropped": 3, "overwritten_unread": 2}


def test_window_bounds_and_stale_views():
    buf = RingBuffer(capacity=4, shape=(), dtype=np.int64)
    with pytest.raises(ValueError):
        buf.window(4)  # must leave room for the slot being written
    with pytest.raises(LookupError):
        buf.window(2)
    for i in range(3):
        buf.push(np.array(i), index=i, host_ns=i)
    view = buf.window(2)
    copy = buf.latest(2)
    for i in range(3, 6):
        buf.push(np.array(i), index=i, host_ns=i)
    assert not view.valid() and copy.valid() and copy.data.tolist() == [1, 2]


def test_push_block_wraps_and_counts():
    buf = RingBuffer(capacity=10, shape=(), dtype=np.float32)
    for k in range(7):
        buf.push_block(np.arange(3 * k, 3 * k + 3, dtype=np.float32), index=3 * k, host_ns=1000 * k, period_ns=10)
    win = buf.latest(9)
    assert win.data.tolist() == list(range(12, 21))
    assert win.host_ns.tolist()[:3] == [4000, 4010, 4020]
    assert buf.overwritten_unread == 11  # frames 0..10 gone before any read
    with pytest.raises(ValueError):
        buf.push_block(np.zeros(10, np.float32), index=0, host_ns=0, period_ns=1)


def test_one_writer_two_readers_see_consistent_windows():
    shape = (8, 8)
    buf = RingBuffer(capacity=16, shape=shape, dtype=np.int64)
    n_frames = 3000
    errors: list[str] = []
    reads = [0, 0]
    done = threading.Event()

    def writer():
        i = 0
        deadline = time.monotonic() + 10
        while (i < n_frames or min(reads) < 20) and time.monotonic() < deadline:
            buf.push(np.full(shape, i), index=i, host_ns=i)
            i += 1
            if i % 50 == 0:
                time.sleep(0.0005)  # let the readers in on a busy 2-core machine
        done.set()
        buf.close()

    def reader(slot):
        out = np.empty((6, *shape), np.int64)
        while not done.is_set():
            if not buf.wait_for(6, timeout=2):
                continue
            try:
                win = buf.latest(6, out=out)
            except RuntimeError:
                continue  # overwritten 8 times in a row while copying: allowed, never torn data
            first = win.data[0, 0, 0]
            expect = np.arange(first, first + 6)[:, None, None]
            if not np.array_equal(win.data, np.broadcast_to(expect, win.data.shape)):
                errors.append(f"torn window at {first}")
            if win.index.tolist() != list(range(first, first + 6)):
                errors.append(f"indices do not match data at {first}")
            reads[slot] += 1

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
        assert not t.is_alive()
    assert errors == [] and min(reads) > 0
    assert buf.count >= n_frames and buf.dropped == 0


def test_close_wakes_waiting_reader():
    buf = RingBuffer(capacity=4, shape=(), dtype=np.int64)
    result = []
    t = threading.Thread(target=lambda: result.append(buf.wait_for(1, timeout=10)))
    t.start()
    buf.close()
    t.join(timeout=2)
    assert not t.is_alive() and result == [False]


def test_partial_mirror_gives_every_window_up_to_max_window():
    buf = RingBuffer(capacity=7, shape=(2,), dtype=np.int32, max_window=3)
    assert buf._data.shape == (9, 2)  # 7 rows + 2 mirrored
    for i in range(30):
        buf.push(np.array([i, -i], np.int32), index=i, host_ns=i)
        for length in range(1, min(3, i + 1) + 1):
            view = buf.window(length)
            assert view.data[:, 0].tolist() == list(range(i - length + 1, i + 1))
            assert view.host_ns.tolist() == list(range(i - length + 1, i + 1)) and view.present.all()
    with pytest.raises(ValueError, match="1 to 3"):
        buf.window(4)
    with pytest.raises(ValueError, match="max_window"):
        RingBuffer(capacity=4, shape=(), max_window=4)
    block = RingBuffer(capacity=7, shape=(), dtype=np.int64, max_window=3)
    for k in range(9):
        block.push_block(np.arange(4 * k, 4 * k + 4), index=4 * k, host_ns=0, period_ns=1)
        assert block.window(3).data.tolist() == [4 * k + 1, 4 * k + 2, 4 * k + 3]
