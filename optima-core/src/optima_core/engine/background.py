"""Run a piece of a run's work off its critical path, in a thread, and hand its error back when it is joined.

Used for the input plots (drawn while Ray starts and the first trials train) and for starting Ray while the inputs
load. An error of the work is never lost: :meth:`BackgroundTask.join` raises it in the thread that waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class BackgroundTask:
    """``work()`` in a daemon thread started at once; :meth:`join` waits for it and re-raises its error."""

    def __init__(self, name: str, work: Callable[[], Any]) -> None:
        self.name = name
        self.result: Any = None
        self.error: BaseException | None = None
        self.seconds = 0.0
        self._joined = False
        self._thread = threading.Thread(
            target=self._run, args=(work,), name=f"optima-{name.replace(' ', '-')}", daemon=True
        )
        self._thread.start()

    def _run(self, work: Callable[[], Any]) -> None:
        start = time.perf_counter()
        try:
            self.result = work()
        except BaseException as error:  # noqa: BLE001 - handed to join(), in the thread that waits
            self.error = error
        finally:
            self.seconds = time.perf_counter() - start

    def join(self) -> Any:
        """Wait for the work; its result, or its error raised here (once: a second join returns None)."""
        self._thread.join()
        if self._joined:
            return None
        self._joined = True
        if self.error is not None:
            raise self.error
        return self.result

    def join_quietly(self, timeout: float | None = None) -> None:
        """Wait for the work (at most ``timeout`` seconds) without raising its error (it stays in :attr:`error`)."""
        self._thread.join(timeout)
        self._joined = not self._thread.is_alive()

    def done(self) -> bool:
        return not self._thread.is_alive()
