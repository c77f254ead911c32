"""Ctrl-C (SIGINT) and SIGTERM during a run: stop within seconds, keep what is finished, never go on with less.

Ray Tune ends an experiment on SIGINT, saves its state and returns from ``Tuner.fit`` as if it had finished: the
stage would then select from the trials finished so far. So for the duration of a run (:func:`interruptible`),
OPTIMA handles both signals itself. Outside of a Tune experiment a signal raises :class:`RunInterrupted` at once;
during one (:func:`tune_experiment`, used by the trial launcher) the first signal asks Tune to stop gracefully (it
saves the experiment state, so ``--resume`` continues the unfinished trials) and :class:`RunInterrupted` is raised
when ``Tuner.fit`` returns; a second signal does not wait. :class:`RunInterrupted` is a ``KeyboardInterrupt``, so
no ``except Exception`` swallows it, while the ``finally`` blocks shut Ray down and release the output folder.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

#: The signals that stop a run.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Tune's handler of this signal stops an experiment gracefully; Tune installs it on every ``fit`` (main thread).
TUNE_STOP_SIGNAL = signal.SIGUSR1
#: With this set, Tune leaves SIGINT to OPTIMA (it would otherwise swallow it and return normally).
TUNE_SIGINT_VARIABLE = "TUNE_DISABLE_SIGINT_HANDLER"
#: Tune's logger; on a stop it advises ``Tuner.restore(...)`` and lists the unfinished trials as errors.
TUNE_LOGGER = "ray.tune.tune"


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by ``signum``; what finished is saved, and ``optima run CONFIG --resume`` continues it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number (130 SIGINT, 143 SIGTERM)."""
        return 128 + self.signum


class _State:
    """The signal received during the run (``None`` before), and Tune's stop handler from before ``fit``."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.before_fit: Any = None
        self.in_fit = False
        self.active = False


_state = _State()


#: After a stop signal the run waits at most this long for work that is not needed to resume (the figures drawn in
#: the background): a batch system kills a job soon after its SIGTERM (SLURM's KillWait, often 30 s).
STOPPING_WAIT_S = 2.0


def stop_requested() -> bool:
    """Whether a stop signal came during the run."""
    return _state.signum is not None


def _on_signal(signum: int, frame: FrameType | None) -> None:
    first = _state.signum is None
    if first:
        _state.signum = signum
        # said at once: the clean-up that follows may be cut short by a batch system's kill
        print(f"received {signal.Signals(signum).name}: stopping the run", file=sys.stderr, flush=True)
    tune_stop = signal.getsignal(TUNE_STOP_SIGNAL)
    # Tune's handler is installed once its fit has started (the one from before is a stale one of an earlier fit)
    if first and _state.in_fit and callable(tune_stop) and tune_stop is not _state.before_fit:
        logging.getLogger(TUNE_LOGGER).disabled = True  # OPTIMA says how to continue, not Tune
        tune_stop(signum, frame)
        return
    raise RunInterrupted(_state.signum or signum)


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM stop the block with :class:`RunInterrupted` (only in the main thread: elsewhere, signal
    handlers cannot be set and nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    _state.active = True
    reclaim_signals()
    try:
        yield
    finally:
        _state.active = False
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _state.signum = None


def raise_if_interrupted() -> None:
    """Raise :class:`RunInterrupted` if a stop signal came during the run (in the main thread).

    The handler raises at once, but Python swallows an exception raised where it cannot propagate (a ``__del__``, a
    weakref callback of the import system: "Exception ignored in ..."), so the run checks again before anything
    long starts: each stage and each Tune experiment."""
    if _state.active and _state.signum is not None and threading.current_thread() is threading.main_thread():
        raise RunInterrupted(_state.signum)


def reclaim_signals() -> None:
    """Inside :func:`interruptible`, handle the stop signals again (``ray.init`` installs a SIGTERM handler of its
    own in the driver, which ends the process at once); elsewhere nothing changes."""
    if _state.active and threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            signal.signal(signum, _on_signal)


@contextmanager
def tune_experiment() -> Iterator[None]:
    """Around ``Tuner.fit``: a stop signal ends the experiment gracefully, then raises :class:`RunInterrupted`."""
    if not _state.active or threading.current_thread() is not threading.main_thread():
        yield  # not inside interruptible(): Tune's own handling applies
        return
    raise_if_interrupted()
    _state.before_fit = signal.getsignal(TUNE_STOP_SIGNAL)
    _state.in_fit = True
    tune_setting = os.environ.get(TUNE_SIGINT_VARIABLE)
    os.environ[TUNE_SIGINT_VARIABLE] = "1"
    try:
        yield
    finally:
        _state.in_fit = False
        if tune_setting is None:
            os.environ.pop(TUNE_SIGINT_VARIABLE, None)
        else:
            os.environ[TUNE_SIGINT_VARIABLE] = tune_setting
        if _state.before_fit is not None:  # None: a handler not set from Python, which cannot be put back
            signal.signal(TUNE_STOP_SIGNAL, _state.before_fit)
        logging.getLogger(TUNE_LOGGER).disabled = False
    if _state.signum is not None:
        raise RunInterrupted(_state.signum)
