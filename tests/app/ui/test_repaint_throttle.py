"""The side views' repaints: newest work per name, at most max_hz per name, one item per tick."""

from app.ui.repaint_throttle import RepaintThrottle


def test_newer_work_replaces_older_and_runs_once():
    throttle = RepaintThrottle(max_hz=1e9)
    ran = []
    throttle.later("depth", lambda: ran.append("old"))
    throttle.later("depth", lambda: ran.append("new"))
    assert throttle
    throttle.flush()
    assert ran == ["new"] and not throttle
    throttle.flush()
    assert ran == ["new"]


def test_one_item_per_flush_the_most_overdue_first():
    throttle = RepaintThrottle(max_hz=1e9)
    ran = []
    for name in ("depth", "bars", "timeline"):
        throttle.later(name, lambda name=name: ran.append(name))
    throttle.flush()
    throttle.flush()
    assert ran == ["depth", "bars"]  # never run: in the order asked for
    throttle.later("depth", lambda: ran.append("depth"))
    throttle.flush()
    assert ran[-1] == "timeline"  # has waited longest
    throttle.flush()
    assert ran[-1] == "depth"


def test_a_name_waits_its_period_unless_forced():
    throttle = RepaintThrottle(max_hz=1e-6)  # a period of about 11 days
    ran = []
    throttle.later("bars", lambda: ran.append(1))
    throttle.flush()  # never ran: due
    throttle.later("bars", lambda: ran.append(2))
    throttle.later("timeline", lambda: ran.append(3))
    throttle.flush()
    assert ran == [1, 3]  # bars ran a moment ago
    throttle.flush(force=True)
    assert ran == [1, 3, 2] and not throttle
