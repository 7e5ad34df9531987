"""The lifecycle every worker thread of the app shares: start once, cooperative stop, errors reach ``join``.

    class Worker(ThreadLifecycle):
        name = "worker"
        def _run(self): ...          # the thread's body: loops until stop() asks it to end
        def stop(self): ...          # sets the flag _run watches and wakes its waits

    worker = Worker()
    worker.start()                   # RuntimeError if already started
    ...
    worker.stop()
    worker.join(timeout=2)           # TimeoutError if still running; re-raises the error that ended it, once

An exception that ends ``_run`` is kept (``failed`` turns true) and raised by the next ``join``;
``finished`` is set when the thread ends, for whatever reason.
"""

from __future__ import annotations

import threading


class ThreadLifecycle:
    """One thread: ``start()``, ``stop()``, ``join(timeout)``, ``failed``, ``finished``.

    Subclasses implement ``_run()`` (the body) and ``stop()`` (how it is told to end and how its waits
    are woken); they may override ``_cleanup()``, run on the thread after the body whatever ended it,
    and ``_set_error()``, which stores the error (to wake waits that watch it).
    """

    name = "thread"

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.finished = threading.Event()  # set when the thread ends, for whatever reason

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} was already started")
        self._thread = threading.Thread(target=self._main, name=self.name)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end (cooperative); wakes its blocked waits."""
        raise NotImplementedError

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread; re-raise the error that ended it. TimeoutError if still running."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"{self.name} did not stop within {timeout} s")
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    @property
    def failed(self) -> bool:
        """Whether an error ended the thread (and ``join`` has not raised it yet)."""
        return self._error is not None

    # --- the thread ------------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._run()
        except BaseException as error:  # handed to join(), never lost
            self._set_error(error)
        finally:
            try:
                self._cleanup()
            except BaseException as error:  # kept unless the body's own error came first
                if self._error is None:
                    self._set_error(error)
            self.finished.set()

    def _run(self) -> None:
        raise NotImplementedError

    def _cleanup(self) -> None:
        """Runs on the thread after ``_run``, however it ended; the default has nothing to do."""

    def _set_error(self, error: BaseException) -> None:
        self._error = error
