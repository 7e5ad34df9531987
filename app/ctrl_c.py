"""Ctrl-C as a flag the main loop polls, not an exception raised in the middle of a statement.

A KeyboardInterrupt can land anywhere in the main thread, including inside ``Event.wait`` between
taking and releasing the event's lock; the lock then stays held, the thread that later sets the
event blocks forever, and the process never exits (the likely cause of a hang seen once in the
record command's Ctrl-C test).
Long-running commands therefore take Ctrl-C like this::

    with ctrl_c_flag() as ctrl_c:
        while not ctrl_c.is_set() and not source.finished.wait(0.05):
            ...
        # stop the threads and finalise files here: a second Ctrl-C raises KeyboardInterrupt

Off the main thread (where signal handlers cannot be installed) the flag is never set.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


@contextlib.contextmanager
def ctrl_c_flag() -> Iterator[threading.Event]:
    """Within the block, the first SIGINT sets the yielded event; a second raises KeyboardInterrupt
    (the user insists). The previous handler is restored on exit."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return

    def on_sigint(signum, frame) -> None:
        if pressed.is_set():
            raise KeyboardInterrupt
        pressed.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)
