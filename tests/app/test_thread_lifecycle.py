import threading

import pytest

from app.thread_lifecycle import ThreadLifecycle


class Body(ThreadLifecycle):
    """A thread whose body waits for stop() (or fails at once with ``fail``)."""

    name = "body"

    def __init__(self, *, fail=None, cleanup_fail=None, ignore_stop=False):
        super().__init__()
        self.fail, self.cleanup_fail, self.ignore_stop = fail, cleanup_fail, ignore_stop
        self._stop = threading.Event()
        self._release = threading.Event()  # ends a body that ignores stop()
        self.cleaned = 0

    def stop(self):
        self._stop.set()

    def _run(self):
        if self.fail is not None:
            raise self.fail
        (self._release if self.ignore_stop else self._stop).wait(10)

    def _cleanup(self):
        self.cleaned += 1
        if self.cleanup_fail is not None:
            raise self.cleanup_fail


def test_start_stop_join_sets_finished_and_raises_nothing():
    body = Body()
    body.start()
    assert body._thread.name == "body" and not body.finished.is_set()
    body.stop()
    body.join(timeout=5)
    assert body.finished.is_set() and not body.failed and body.cleaned == 1


def test_start_twice_is_an_error():
    body = Body()
    body.start()
    with pytest.raises(RuntimeError, match="body was already started"):
        body.start()
    body.stop()
    body.join(timeout=5)


def test_an_error_in_the_body_is_raised_by_join_once_then_cleared():
    body = Body(fail=ValueError("boom"))
    body.start()
    assert body.finished.wait(5)
    assert body.failed and body.cleaned == 1  # the clean-up runs after a failure too
    with pytest.raises(ValueError, match="boom"):
        body.join(timeout=5)
    assert not body.failed
    body.join(timeout=5)  # raised once


def test_a_cleanup_error_is_kept_unless_the_body_failed_first():
    body = Body(cleanup_fail=OSError("disk full"))
    body.start()
    body.stop()
    with pytest.raises(OSError, match="disk full"):
        body.join(timeout=5)

    both = Body(fail=ValueError("boom"), cleanup_fail=OSError("disk full"))
    both.start()
    with pytest.raises(ValueError, match="boom"):
        both.join(timeout=5)
    both.join(timeout=5)


def test_join_on_a_body_that_does_not_end_times_out_naming_the_thread():
    body = Body(ignore_stop=True)
    body.start()
    body.stop()
    with pytest.raises(TimeoutError, match="body did not stop within 0.05 s"):
        body.join(timeout=0.05)
    assert not body.finished.is_set()
    body._release.set()
    body.join(timeout=5)
    assert body.finished.is_set()


def test_join_before_start_returns_at_once():
    body = Body()
    body.join(timeout=0.01)
    assert not body.failed and not body.finished.is_set()
