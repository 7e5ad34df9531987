"""Ctrl-C and SIGTERM as a flag the main loop polls, not an exception raised in the middle of a statement.

A KeyboardInterrupt can land anywhere in the main thread, including inside ``Event.wait`` between
taking and releasing the event's lock; the lock then stays held, the thread that later sets the
event blocks forever, and the process never exits (the likely cause of a hang seen once in the
record command's Ctrl-C test).
Long-running commands therefore take Ctrl-C like this::

    with ctrl_c_flag() as ctrl_c:
        while not ctrl_c.is_set() and not source.finished.wait(0.05):
            ...
        # stop the threads and finalise files here: a second Ctrl-C raises KeyboardInterrupt

SIGTERM (``kill``, systemd, ``docker stop``) is the same request as Ctrl-C (``STOP_SIGNALS``).
The program catches them from its first import on (``catch_from_the_start``), and ``main()`` holds
a ``ctrl_c_flag`` around the command, so that a signal during start-up (imports, loading the model)
is a stop request that the command's own block inherits: nested blocks share one flag. Commands without a loop that polls it run inside ``ctrl_c_raises``: there a signal
raises KeyboardInterrupt (exit 130).
Off the main thread (where signal handlers cannot be installed) the flag is never set.
Once the command is done, ``exit_on_stop_signals`` makes a late signal end the process at once
with the command's exit code, so that one arriving during the interpreter's shutdown cannot turn
a finished run's exit 0 into 143 or a traceback.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# The flag of the innermost ctrl_c_flag block on the main thread (None: none, or a ctrl_c_raises
# block inside it). Only the main thread reads or writes it.
_current: threading.Event | None = None


def _install(handler) -> dict[int, object]:
    """Install ``handler`` for each stop signal; the previous handlers, to restore. Also where the
    parent ignored one (``cmd &`` in a script): ``kill -INT`` still stops a recording cleanly."""
    return {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}


def _restore(previous: dict[int, object]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _in_a_child(pid: int, signum: int) -> bool:
    """In a forked child (a worker process) that inherited the handler: act as Python's defaults
    would (SIGINT raises KeyboardInterrupt, SIGTERM ends the process) and say so."""
    if os.getpid() == pid:
        return False
    if signum == signal.SIGINT:
        signal.signal(signum, signal.default_int_handler)
        raise KeyboardInterrupt
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    return True


def catch_from_the_start() -> None:
    """For the program, before its heavy imports: from now on a stop signal sets the flag that
    ``main()``'s ``ctrl_c_flag`` will share (a second one too: nothing is raised during imports)."""
    global _current
    if threading.current_thread() is not threading.main_thread() or _current is not None:
        return
    pressed = threading.Event()
    pid = os.getpid()

    def on_signal(signum, frame) -> None:
        if not _in_a_child(pid, signum):
            pressed.set()

    _current = pressed
    _install(on_signal)


@contextlib.contextmanager
def ctrl_c_flag(*, insist: bool = True) -> Iterator[threading.Event]:
    """Within the block, the first SIGINT or SIGTERM sets the yielded event; a second raises
    KeyboardInterrupt (the user insists) unless ``insist`` is False (inside Qt's event loop, where
    an exception in a slot aborts the process). A block inside another shares its event, set
    already when a signal came first. The previous handlers are restored on exit."""
    global _current
    if threading.current_thread() is not threading.main_thread():
        yield threading.Event()
        return
    pressed = _current if _current is not None else threading.Event()
    pid = os.getpid()

    def on_signal(signum, frame) -> None:
        if _in_a_child(pid, signum):
            return
        if pressed.is_set() and insist:
            raise KeyboardInterrupt
        pressed.set()

    outer, _current = _current, pressed
    previous = _install(on_signal)
    try:
        yield pressed
    finally:
        _restore(previous)
        _current = outer


@contextlib.contextmanager
def ctrl_c_raises() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise KeyboardInterrupt, at once if an enclosing
    ``ctrl_c_flag`` was set already. For commands with no loop that polls a flag."""
    global _current
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _current is not None and _current.is_set():
        raise KeyboardInterrupt
    pid = os.getpid()

    def on_signal(signum, frame) -> None:
        if not _in_a_child(pid, signum):
            raise KeyboardInterrupt

    outer, _current = _current, None
    previous = _install(on_signal)
    try:
        yield
    finally:
        _restore(previous)
        _current = outer


def exit_on_stop_signals(code: int) -> None:
    """From now on (the command is done, its output flushed here), a stop signal ends the process at
    once with ``code``. For the program's entry point only, never for a caller that goes on."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            pass
    pid = os.getpid()

    def on_signal(signum, frame) -> None:
        if not _in_a_child(pid, signum):
            os._exit(code)

    if threading.current_thread() is threading.main_thread():
        _install(on_signal)
        # Python resets its handlers to the defaults (143, 130) before it tears its modules down,
        # which takes a while with torch loaded; ignored signals it leaves ignored. Registered last,
        # this runs first of the exit functions, after the threads have ended.
        atexit.register(_install, signal.SIG_IGN)
