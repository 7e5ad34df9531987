import json
import threading

import numpy as np
import pytest

from app.latency import INTERVALS, LatencyStats, StageTimes

MS = 1_000_000  # ns per ms


def times(base: int, *, arrival=1.0, window=0.5, wait=0.25, infer=4.0, decide=0.125, emit=2.0,
          stream="skeleton") -> StageTimes:
    """A record whose intervals are the given milliseconds after ``base`` ns."""
    t = StageTimes(stream=stream, capture=base)
    ns = base
    for stage, ms in zip(("arrival", "window", "infer_start", "infer_end", "decision", "emit"),
                         (arrival, window, wait, infer, decide, emit)):
        ns += int(round(ms * MS))
        t = t.at(stage, ns)
    return t


def test_stage_times_give_every_interval():
    t = times(10**12)
    iv = t.intervals_ms()
    assert iv == {"buffer": 1.0, "window": 0.5, "wait": 0.25, "inference": 4.0, "decision": 0.125,
                  "emit": 2.0, "total": 5.875, "overhead": 1.875}
    # A missing stage drops only the intervals that need it.
    partial = StageTimes(capture=0, arrival=2 * MS, decision=7 * MS)
    assert partial.intervals_ms() == {"buffer": 2.0, "total": 7.0}
    with pytest.raises(ValueError, match="unknown stage"):
        t.at("render")
    stamped = StageTimes().at("capture")
    assert isinstance(stamped.capture, int) and stamped.capture > 0


def test_percentiles_match_numpy_default_method():
    rng = np.random.default_rng(0)
    totals_ns = rng.integers(1 * MS, 40 * MS, size=257)
    infer_ns = rng.integers(0, MS, size=257)
    stats = LatencyStats(capacity=1024)
    for i, (tot, inf) in enumerate(zip(totals_ns, infer_ns)):
        base = 10**9 + i * 33 * MS
        stats.add(StageTimes(capture=base, infer_start=base, infer_end=base + int(inf),
                             decision=base + int(tot)))
    expect_total = np.percentile(totals_ns / 1e6, [50, 95, 99])
    got = stats.percentiles("total")
    assert [got["p50"], got["p95"], got["p99"]] == list(expect_total)
    assert got["max"] == totals_ns.max() / 1e6 and got["n"] == 257
    overhead = totals_ns / 1e6 - infer_ns / 1e6
    got = stats.percentiles("overhead")
    assert got["p95"] == pytest.approx(np.percentile(overhead, 95), rel=1e-12)
    with pytest.raises(ValueError, match="unknown interval"):
        stats.percentiles("nope")


def test_hand_computed_percentiles():
    stats = LatencyStats()
    for ms in (1, 2, 3, 4, 10):  # numpy linear: p50=3, p95=4+0.8*6=8.8, p99=4+0.96*6=9.76
        stats.add(StageTimes(capture=0, decision=ms * MS))
    p = stats.percentiles("total")
    assert p["p50"] == 3.0 and p["max"] == 10.0
    assert p["p95"] == pytest.approx(8.8) and p["p99"] == pytest.approx(9.76)


def test_ring_keeps_last_values_but_max_and_count_over_all():
    stats = LatencyStats(capacity=4)
    for ms in (100, 1, 2, 3, 4):  # the 100 ms outlier leaves the ring, stays the max
        stats.add(StageTimes(capture=0, decision=ms * MS))
    p = stats.percentiles("total")
    assert p["p50"] == 2.5 and p["max"] == 100.0 and p["n"] == 5


def test_summary_shape_and_json():
    stats = LatencyStats()
    empty = stats.summary()
    assert empty["latency_ms"] == {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    assert empty["stages_ms"] == {} and empty["decisions"] == 0
    for i in range(10):
        stats.add_frame("color", 10**9 + i * 33_333_333, index=i)
        stats.add(times(10**9 + i * 33_333_333))
    stats.count_skipped("color", 2)
    stats.count_dropped("depth")
    s = stats.summary()
    json.dumps(s)  # serialisable as it is
    assert set(s) == {"frames", "dropped", "skipped", "fps", "decisions", "latency_ms", "stages_ms"}
    assert s["decisions"] == 10 and s["frames"] == {"color": 10, "depth": 0}
    assert s["skipped"] == {"color": 2, "depth": 0} and s["dropped"] == {"color": 0, "depth": 1}
    assert s["latency_ms"]["p50"] == 5.875 and s["latency_ms"]["max"] == 5.875
    assert set(s["latency_ms"]) >= {"p50", "p95", "p99", "max"}
    assert set(s["stages_ms"]) == (set(INTERVALS) - {"total"}) | {"overhead"}
    assert s["stages_ms"]["inference"]["p99"] == 4.0
    assert s["fps"]["color"] == pytest.approx(30.0, abs=0.01)


def test_fps_uses_a_sliding_window_of_arrivals():
    stats = LatencyStats(fps_window_s=1.0)
    assert stats.fps("color") == 0.0
    t = 0
    for _ in range(30):  # 3 s at 10 fps ...
        stats.add_frame("color", t)
        t += 100 * MS
    for _ in range(21):  # ... then 1 s at 20 fps: only the last second counts
        stats.add_frame("color", t)
        t += 50 * MS
    assert stats.fps("color") == pytest.approx(20.0)
    stats.add_frame("depth", 5)
    assert stats.fps("depth") == 0.0  # one arrival: no rate yet


def test_index_gaps_count_as_dropped():
    stats = LatencyStats()
    for i in (0, 1, 2, 5, 6, 10):
        stats.add_frame("depth", i * MS, index=i)
    assert stats.summary()["dropped"] == {"depth": 2 + 3}


def test_memory_is_bounded_after_many_adds():
    stats = LatencyStats(capacity=256, fps_frames=64)
    for i in range(100_000):
        base = i * 1000
        stats.add(StageTimes(capture=base, decision=base + (i % 997)))
        stats.add_frame("color", base)
    for ring in stats._rings.values():
        assert ring.values.shape == (256,)
    assert len(stats._streams["color"].arrivals) == 64
    p = stats.percentiles("total")
    assert p["n"] == 100_000 and p["max"] == 996 / 1e6
    last = np.array([(i % 997) for i in range(100_000 - 256, 100_000)]) / 1e6
    assert p["p50"] == np.percentile(last, 50)


@pytest.mark.timeout(30)
def test_two_writers_and_a_reader():
    stats = LatencyStats(capacity=512)
    n = 5000
    errors: list[BaseException] = []
    done = threading.Event()

    def writer(stream: str, ms: int) -> None:
        try:
            for i in range(n):
                stats.add_frame(stream, i * MS, index=i)
                stats.add(StageTimes(stream=stream, capture=0, decision=ms * MS))
        except BaseException as e:  # noqa: BLE001 - handed to the test
            errors.append(e)

    def reader() -> None:
        try:
            while not done.is_set():
                s = stats.summary()
                assert s["latency_ms"]["n"] == s["decisions"]
                json.dumps(s)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=("color", 1)),
               threading.Thread(target=writer, args=("depth", 3)),
               threading.Thread(target=reader)]
    for th in threads:
        th.start()
    for th in threads[:2]:
        th.join(timeout=20)
        assert not th.is_alive()
    done.set()
    threads[2].join(timeout=5)
    assert not threads[2].is_alive()
    assert not errors, errors
    s = stats.summary()
    assert s["decisions"] == 2 * n and s["frames"] == {"color": n, "depth": n}
    assert s["dropped"] == {"color": 0, "depth": 0}
    assert s["latency_ms"]["max"] == 3.0 and s["latency_ms"]["n"] == 2 * n
