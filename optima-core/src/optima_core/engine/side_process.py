"""Run a function in a fresh Python process at the lowest CPU priority, and wait for its result.

For a run's work that is off its critical path and must not take CPU time from the trials: the input plots and
the search plots. In a thread of the driver the input plots held the interpreter lock that the driver's own
start-up needed (the Tuner started 2-3 s later) and took a full share of the CPU from the trials. In a side process
at ``nice`` 19 they use the cores the run leaves idle, and the driver waits for nothing.

:func:`call` runs ``module:function`` there only inside :func:`side_processes_allowed` (the engine sets it around
work it already runs in the background); anywhere else, and for a function that is not importable by name, it runs
here, as a plain call. The arguments go to the process pickled on its standard input; its result, or its error with
the traceback, comes back pickled on its standard output (what the function prints goes to standard error). The
side process ignores Ctrl-C (the driver decides what a stop means) and is killed when the driver dies. It imports
the function's modules with garbage collection paused and then freezes them (``gc.freeze``), so the collections
while it draws scan only the figures' objects.
"""

from __future__ import annotations

import gc
import importlib
import os
import pickle
import signal
import subprocess
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from optima_core.inputs.memory import collections_paused

#: The niceness of a side process: it gets a core only when no trial wants it.
NICENESS = 19

_allowed: ContextVar[bool] = ContextVar("optima_side_processes_allowed", default=False)


class SideProcessError(RuntimeError):
    """A side process failed with an error that could not be sent back as it was, or died without a result."""


@contextmanager
def side_processes_allowed() -> Iterator[None]:
    """Let :func:`call` run functions in a side process inside the block (in this thread / context)."""
    token = _allowed.set(True)
    try:
        yield
    finally:
        _allowed.reset(token)


def call(reference: Any, *args: Any, **kwargs: Any) -> Any:
    """``reference(*args, **kwargs)``: in a side process inside :func:`side_processes_allowed` when ``reference``
    is a ``"module:function"`` string, else in this process. Returns its result; raises its error."""
    if isinstance(reference, str) and _allowed.get():
        return call_in_side_process(reference, *args, **kwargs)
    return _load(reference)(*args, **kwargs)


def call_in_side_process(reference: str, *args: Any, **kwargs: Any) -> Any:
    """Run ``reference(*args, **kwargs)`` in a new low-priority Python process and wait for it."""
    process = subprocess.Popen(
        [sys.executable, "-m", __name__, str(os.getpid())], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        try:  # streamed: large arrays are not copied into one message first
            pickle.dump((reference, args, kwargs), process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            process.stdin.close()
        except BrokenPipeError:  # it died early; what it said, if anything, is read below
            pass
        output = process.stdout.read()  # it answers only once it has read the whole request
        process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise
    try:
        status, value, text = pickle.loads(output)
    except Exception as error:  # it died before answering (killed, out of memory)
        raise SideProcessError(
            f"the side process running {reference} ended with exit status {process.returncode} and no result"
        ) from error
    if status == "ok":
        return value
    if isinstance(value, BaseException):
        note = f"(raised in the side process running {reference}:)\n{text}"
        if hasattr(value, "add_note"):  # Python 3.11+
            value.add_note(note)
        raise value
    raise SideProcessError(f"{reference} failed in its side process:\n{text}")


def call_each(calls: list[tuple[Any, tuple[Any, ...], dict[str, Any]]]) -> None:
    """Several calls ``(reference, args, kwargs)`` in turn (one side process for several figures)."""
    for reference, args, kwargs in calls:
        _load(reference)(*args, **kwargs)


def _load(reference: Any) -> Any:
    """The function a ``"module:function"`` string names; anything else is the callable itself."""
    if not isinstance(reference, str):
        return reference
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the driver's thread that started it ends (the driver dying ends it)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


def _serve() -> None:
    """The side process: read the call from standard input, answer on standard output."""
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what the function prints must not mix with the answer
    sys.stdout = sys.stderr
    _die_with_parent()
    if os.getppid() != int(sys.argv[1]):  # the driver was gone before the request to die with it
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)
    try:
        with collections_paused():  # the imports (matplotlib, pandas) make no garbage worth a full collection
            reference, args, kwargs = pickle.load(sys.stdin.buffer)
            function = _load(reference)
        gc.freeze()  # and the figures' collections need not scan the imported modules
        result: tuple[str, Any, str] = ("ok", function(*args, **kwargs), "")
        data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as error:  # noqa: BLE001 - every failure goes back to the driver
        text = traceback.format_exc()
        try:
            data = pickle.dumps(("error", error, text), protocol=pickle.HIGHEST_PROTOCOL)
            pickle.loads(data)  # an error that pickles but does not unpickle goes back as text
        except Exception:  # noqa: BLE001
            data = pickle.dumps(("error", None, text), protocol=pickle.HIGHEST_PROTOCOL)
    answer.write(data)
    answer.flush()


if __name__ == "__main__":
    _serve()
