"""app.ctrl_c: Ctrl-C becomes a flag inside the block, a second one insists, the old handler returns."""

import os
import signal
import threading
import time

import pytest

from app.ctrl_c import ctrl_c_flag


def _sigint_and_wait(flag: threading.Event | None = None) -> None:
    os.kill(os.getpid(), signal.SIGINT)
    deadline = time.monotonic() + 5
    while (flag is None or not flag.is_set()) and time.monotonic() < deadline:
        time.sleep(0.01)  # the handler runs between bytecodes of the main thread


def test_first_ctrl_c_sets_the_flag_second_raises_and_handler_is_restored():
    before = signal.getsignal(signal.SIGINT)
    with ctrl_c_flag() as ctrl_c:
        assert not ctrl_c.is_set()
        _sigint_and_wait(ctrl_c)
        assert ctrl_c.is_set()
        with pytest.raises(KeyboardInterrupt):
            _sigint_and_wait()
    assert signal.getsignal(signal.SIGINT) is before


def test_off_the_main_thread_nothing_is_installed():
    before = signal.getsignal(signal.SIGINT)
    seen = {}

    def body():
        with ctrl_c_flag() as ctrl_c:
            seen["handler"] = signal.getsignal(signal.SIGINT)
            seen["set"] = ctrl_c.is_set()

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(5)
    assert seen == {"handler": before, "set": False}
