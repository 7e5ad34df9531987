import numpy as np
import pytest

from app.ring_buffer import RingBuffer
from fusion.data.sample import Sample, Skeleton
from app.sync import FrameSet, SyncConfig, Synchronizer


def s(stream, index, t_ms, data=None, device=True):
    return Sample(stream, data, index, host_ns=int(t_ms * 1e6) + 5_000_000, device_ms=t_ms if device else None)


def run(samples, streams=("depth", "color"), **kw):
    sets: list[FrameSet] = []
    sync = Synchronizer(SyncConfig(**kw), streams=streams, on_set=sets.append)
    for sample in samples:
        sync.push(sample)
    sync.flush()
    return sync, sets


def test_depth_30_color_15_pairs_by_time_and_counts_missing():
    samples = []
    for i in range(10):  # depth every 33.3 ms, color every other depth frame with 3 ms skew
        samples.append(s("depth", i, i * 33.3))
        if i % 2 == 0:
            samples.append(s("color", i // 2, i * 33.3 + 3.0))
    sync, sets = run(samples)
    assert sync.reference == "depth" and len(sets) == 10
    assert [("color" in fs.samples) for fs in sets] == [i % 2 == 0 for i in range(10)]
    assert [fs.samples["color"].index for fs in sets if "color" in fs.samples] == [0, 1, 2, 3, 4]
    stats = sync.stats()
    assert stats["color"]["matched"] == 5 and stats["color"]["missing"] == 5
    assert stats["color"]["skew_ms"]["p50"] == pytest.approx(3.0)
    assert stats["depth"]["received"] == 10 and stats["depth"]["dropped"] == 0


def test_same_index_pairs_directly_before_a_nearer_frame():
    samples = [s("color", 6, 100.5), s("color", 7, 112.0), s("depth", 7, 100.0)]
    sync, sets = run(samples, tolerance_ms=20.0)
    assert len(sets) == 1 and sets[0].samples["color"].index == 7 and sets[0].missing == ()
    sets = []
    sync = Synchronizer(SyncConfig(tolerance_ms=20.0), streams=("depth", "color"), on_set=sets.append)
    sync.push(s("color", 3, 10.0))
    sync.push(s("depth", 3, 0.0))
    assert len(sets) == 1  # paired at once: no wait for a nearer color frame
    # same counters but far apart in time (independent devices): not paired by index
    sync, sets = run([s("color", 1, 66.0), s("depth", 1, 33.0)], tolerance_ms=20.0)
    assert sets[0].missing == ("color",)


def test_frame_set_split_across_deliveries_is_not_double_counted():
    # a RealSense frame set delivered twice: first depth alone, then depth and color together
    samples = [s("depth", 1, 0.0), s("depth", 1, 0.0), s("color", 1, 0.5),
               s("depth", 2, 33.0), s("color", 2, 33.5), s("color", 2, 33.5)]
    sync, sets = run(samples)
    assert len(sets) == 2
    assert [fs.samples["color"].index for fs in sets] == [1, 2]
    stats = sync.stats()
    assert stats["depth"]["duplicates"] == 1 and stats["color"]["duplicates"] == 1
    assert stats["depth"]["received"] == 2


def test_drops_counted_from_index_gaps_and_late_partner_waits():
    samples = [s("depth", 0, 0.0), s("depth", 1, 33.0), s("depth", 4, 133.0), s("depth", 5, 166.0)]
    sync, sets = run(samples, streams=("depth", "color", "skeleton"))
    assert sync.stats()["depth"]["dropped"] == 2 and len(sets) == 4
    assert all(fs.missing == ("color", "skeleton") for fs in sets)


def test_partner_used_once_and_nearest_wins():
    # one color frame between two depth frames: it goes to the nearer one only
    samples = [s("depth", 0, 0.0), s("color", 0, 12.0), s("depth", 1, 20.0), s("depth", 2, 40.0)]
    sync, sets = run(samples, tolerance_ms=15.0)
    assert ["color" in fs.samples for fs in sets] == [True, False, False]


def test_waits_for_partner_until_it_arrives_or_expires():
    sets = []
    sync = Synchronizer(SyncConfig(tolerance_ms=10, max_wait_ms=50), streams=("depth", "color"), on_set=sets.append)
    sync.push(s("depth", 0, 0.0))
    assert sets == []  # color may still come
    sync.push(s("color", 0, 2.0))
    assert len(sets) == 1 and sets[0].samples["color"].index == 0
    sync.push(s("depth", 1, 33.0))
    sync.push(s("depth", 2, 66.0))
    sync.push(s("depth", 3, 99.0))
    assert len(sets) == 2 and sets[1].missing == ("color",)  # depth 1 expired after 50 ms


def test_host_clock_when_a_stream_has_no_device_time_and_buffers_fill():
    buffers = {"color": RingBuffer(capacity=8, shape=(2, 2, 3), dtype=np.uint8),
               "skeleton": RingBuffer(capacity=8, shape=(21, 3), dtype=np.float32),
               "audio": RingBuffer(capacity=100, shape=(), dtype=np.float32)}
    to_array = {"skeleton": lambda sk: None if sk is None else sk.image}
    sets = []
    sync = Synchronizer(streams=("color", "skeleton", "audio"), on_set=sets.append, buffers=buffers,
                        to_array=to_array, audio_rate=1000)
    hand = Skeleton(image=np.ones((21, 3), np.float32))
    for i in range(4):
        sync.push(s("color", i, i * 66.0, np.full((2, 2, 3), i, np.uint8)))
        sync.push(s("skeleton", i, i * 66.0 + 1, hand if i % 2 else None, device=False))
        sync.push(s("audio", i, i * 66.0, np.full(10, i, np.float32), device=False))
    sync.flush()
    assert len(sets) == 4 and all("skeleton" in fs.samples for fs in sets)
    win = buffers["skeleton"].latest(4)
    assert win.present.tolist() == [False, True, False, True]
    assert buffers["color"].latest(3).data[:, 0, 0, 0].tolist() == [1, 2, 3]
    audio = buffers["audio"].latest(40)
    assert audio.data.tolist() == sum(([float(i)] * 10 for i in range(4)), [])
    assert audio.host_ns[1] - audio.host_ns[0] == 1_000_000  # 1 kHz
    assert sync.stats()["audio"]["received"] == 4
    assert all(fs.latency_ms >= 0 for fs in sets)


def test_restarted_numbering_is_not_taken_for_duplicates():
    samples = [s("depth", i, i * 33.0) for i in range(5)] + [s("depth", i, 500 + i * 33.0) for i in range(3)]
    sync, sets = run(samples, streams=("depth",))
    stats = sync.stats()["depth"]
    assert len(sets) == 8 and stats["restarts"] == 1 and stats["duplicates"] == 0 and stats["dropped"] == 0


def test_on_set_may_read_stats_on_the_same_thread():
    seen = []
    sync = Synchronizer(streams=("depth",))
    sync.on_set = lambda fs: seen.append(sync.stats()["depth"]["received"])
    for i in range(3):
        sync.push(s("depth", i, i * 33.0))
    assert seen == [1, 2, 3]
