"""app.ctrl_c: Ctrl-C and SIGTERM become a flag inside the block, a second one insists, the old handler
returns; nested blocks share the flag; ctrl_c_raises makes them KeyboardInterrupt."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from app.ctrl_c import ctrl_c_flag, ctrl_c_raises
from tests.conftest import ROOT


def _signal_and_wait(flag: threading.Event | None = None, signum: int = signal.SIGINT, timeout: float = 5) -> None:
    os.kill(os.getpid(), signum)
    deadline = time.monotonic() + timeout
    while (flag is None or not flag.is_set()) and time.monotonic() < deadline:
        time.sleep(0.01)  # the handler runs between bytecodes of the main thread


def test_first_ctrl_c_sets_the_flag_second_raises_and_handler_is_restored():
    before = signal.getsignal(signal.SIGINT)
    with ctrl_c_flag() as ctrl_c:
        assert not ctrl_c.is_set()
        _signal_and_wait(ctrl_c)
        assert ctrl_c.is_set()
        with pytest.raises(KeyboardInterrupt):
            _signal_and_wait()
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


def test_sigterm_is_ctrl_c():
    before = signal.getsignal(signal.SIGTERM)
    with ctrl_c_flag() as ctrl_c:
        _signal_and_wait(ctrl_c, signal.SIGTERM)
        assert ctrl_c.is_set()
        with pytest.raises(KeyboardInterrupt):
            _signal_and_wait(signum=signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before


def test_nested_blocks_share_one_flag_set_before_the_inner_one_began():
    with ctrl_c_flag() as outer:
        _signal_and_wait(outer, signal.SIGTERM)
        with ctrl_c_flag() as inner:
            assert inner is outer and inner.is_set()
        with ctrl_c_flag(insist=False):
            _signal_and_wait(timeout=0.2)  # a second signal, not insisted on inside Qt's loop
    with ctrl_c_flag() as fresh:
        assert not fresh.is_set()


def test_ctrl_c_raises_raises_at_once_after_an_earlier_signal_and_on_a_new_one():
    with ctrl_c_flag() as outer:
        with ctrl_c_raises():
            with pytest.raises(KeyboardInterrupt):
                _signal_and_wait(signum=signal.SIGTERM)
            with ctrl_c_flag() as inner:  # a loop inside a raising command: a flag of its own
                assert inner is not outer
        assert not outer.is_set()
        _signal_and_wait(outer)
        with pytest.raises(KeyboardInterrupt), ctrl_c_raises():
            pass


def test_a_signal_the_parent_ignored_still_stops_the_run():
    # a run started as `cmd &` from a script inherits SIGINT ignored; `kill -INT` must still stop it
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with ctrl_c_flag() as ctrl_c:
            _signal_and_wait(ctrl_c)
            assert ctrl_c.is_set()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_forked_child_dies_of_sigterm_as_by_default():
    with ctrl_c_flag():
        ready, told = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: say it runs, wait for the signal
            os.write(told, b"1")
            time.sleep(10)
            os._exit(0)
        os.read(ready, 1)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM


@pytest.mark.parametrize("when", ["before the exit", "in an exit function"])
def test_a_signal_after_the_command_is_done_keeps_its_exit_code(when):
    # a late SIGTERM (a second one, say) must not turn a finished run's exit 0 into 143
    late = "os.kill(os.getpid(), signal.SIGTERM); time.sleep(0.5)"
    code = ("import atexit, os, signal, sys, time\n"
            "from app.ctrl_c import exit_on_stop_signals\n"
            + (f"atexit.register(lambda: ({late.replace('; ', ', ')}))\n" if when == "in an exit function" else "")
            + "print('summary')\nexit_on_stop_signals(0)\n"
            + (f"{late}\nsys.exit(3)\n" if when == "before the exit" else "sys.exit(0)\n"))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (done.returncode, done.stdout, done.stderr) == (0, "summary\n", "")


def test_importing_main_catches_nothing():
    # only the program catches signals from the start; a test (or any importer) keeps its handlers
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    import app.ctrl_c
    import main  # noqa: F401

    assert app.ctrl_c._current is None
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
