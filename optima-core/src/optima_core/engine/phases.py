"""How long each phase of a run took: ``"phases"`` in ``<output>/optima_run.json``, and a line in ``optima.log``.

A phase is ``{"phase": str, "stage": str | None, "seconds": float}``: ``start-up`` (from the start of the process,
or of the call of the Python API's ``run``, to the loading of the inputs), ``inputs``, ``ray start-up`` (the time
the run waited for Ray, which starts while the inputs load), ``input plots`` (drawn in the background while the
first stage runs), per stage ``hpo``, ``selection`` (of the best trials), ``search plots`` (drawn in the background
while its cross-validation trains), ``crossvalidation <labels>`` (the training of the folds of one or more plans),
``evaluation <label>`` (what the driver still does: collecting, averaging, evaluating models their workers could
not) and ``onnx export <label>``, ``variable selection`` (stage ``variable_selection``: the backward elimination
that follows its pre-HPO), and ``shut-down``. Phases that end before the output folder exists are kept and written
once it does; every recorded phase rewrites the manifest atomically, so a run that stops half-way still tells where
its time went.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: The manifest key holding the phases.
PHASES_KEY = "phases"


def process_age_s() -> float | None:
    """Seconds since this process started (Linux ``/proc``), or None where that cannot be read."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started_ticks = int(fields[19])  # field 22 of stat(5), counted after the command name
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(uptime - started_ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):
        return None


def _log(entry: dict[str, Any]) -> None:
    where = f" [{entry['stage']}]" if entry["stage"] else ""
    logger.debug("phase %s%s took %.2f s", entry["phase"], where, entry["seconds"])


class PhaseRecorder:
    """Collects the phases of one run (thread-safe) and writes them into the run's manifest once it has a folder."""

    def __init__(self) -> None:
        self._records: list[dict[str, Any]] = []
        self._folder: Path | None = None
        self._unlogged: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def records(self) -> list[dict[str, Any]]:
        """A copy of the phases recorded so far, in the order they ended."""
        with self._lock:
            return [dict(r) for r in self._records]

    @contextmanager
    def phase(self, phase: str, stage: str | None = None) -> Iterator[None]:
        """Record the time the block takes as ``phase`` (of ``stage``), also when it raises."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.record(phase, stage, time.perf_counter() - start)

    def clock(self, phase: str, stage: str | None = None) -> Callable[[], None]:
        """Start timing ``phase`` now; the returned function records it (for code a ``with`` block would re-indent)."""
        start = time.perf_counter()
        return lambda: self.record(phase, stage, time.perf_counter() - start)

    def record(self, phase: str, stage: str | None, seconds: float, *, log: bool = True) -> None:
        """Add one phase, say it in the log and rewrite the manifest (once the run has its folder).

        ``log=False``: the log line waits for :meth:`attach` (a phase that ends before the log collects records).
        """
        entry = {"phase": phase, "stage": stage, "seconds": round(float(seconds), 3)}
        with self._lock:
            self._records.append(entry)
            if log:
                _log(entry)
            else:
                self._unlogged.append(entry)
            self._write()

    def attach(self, folder: Path) -> None:
        """From now on write into ``folder``'s manifest (the phases recorded before it existed included)."""
        with self._lock:
            self._folder = folder
            for entry in self._unlogged:
                _log(entry)
            self._unlogged.clear()
            self._write()

    def detach(self) -> None:
        """Stop writing (the run released its folder)."""
        with self._lock:
            self._folder = None

    def _write(self) -> None:
        if self._folder is None:
            return
        from optima_core.engine.output import update_manifest

        try:
            update_manifest(self._folder, {PHASES_KEY: [dict(r) for r in self._records]})
        except OSError as error:  # timing is a diagnosis: it never ends a run
            logger.warning("cannot record the phase times in %s: %s", self._folder, error)


#: When the Python API was asked for the run in progress (``time.monotonic()``); None for a run of ``optima run``.
_requested_at: ContextVar[float | None] = ContextVar("optima_run_requested_at", default=None)


@contextmanager
def run_requested() -> Iterator[None]:
    """Around a run asked for through the Python API: its ``start-up`` counts from here, not from the start of the
    process (a notebook's kernel may have started hours before)."""
    token = _requested_at.set(time.monotonic())
    try:
        yield
    finally:
        _requested_at.reset(token)


def record_start_up(recorder: PhaseRecorder) -> None:
    """Record ``start-up``: from the start of the process (``optima run``), or of the Python API call
    (:func:`run_requested`), until now; nothing where the start of the process cannot be read."""
    requested = _requested_at.get()
    age = time.monotonic() - requested if requested is not None else process_age_s()
    if age is not None:
        recorder.record("start-up", None, age, log=False)  # before the log file collects records


class ShutDownClock:
    """``shut-down``: from :meth:`start` (after the last stage) to :meth:`stop` (Ray down); nothing if never started."""

    def __init__(self, recorder: PhaseRecorder) -> None:
        self.recorder = recorder
        self._start: float | None = None

    def start(self) -> None:
        self._start = time.perf_counter()

    def stop(self) -> None:
        if self._start is not None:
            self.recorder.record("shut-down", None, time.perf_counter() - self._start)
