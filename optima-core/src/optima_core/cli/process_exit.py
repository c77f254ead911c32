"""End the ``optima run`` process as Python's own exit would, without the teardown of every imported module.

When the interpreter exits normally it waits for the threads that are not daemons, runs the ``atexit`` handlers,
and then takes every imported module apart and collects what is left. After a run the driver has Ray, pandas,
pyarrow, Optuna, SQLAlchemy and scipy imported, and that last part alone takes about half a second, while nothing
is left to write: the results, the report and the logs are closed by then. :func:`exit_without_teardown` does the
first two steps as Python does them (``threading._shutdown``: the threads' own exit hooks, such as
``concurrent.futures`` pools being told to stop, then joining the threads; ``atexit``: Ray's shut-down, logging's
flush and close, ``weakref.finalize`` hooks), flushes the standard streams and ends the process with ``os._exit``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def exit_code(done: SystemExit) -> int:
    """The process exit status ``sys.exit`` would give for ``done`` (a message is printed to stderr, status 1)."""
    code = done.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _join_threads() -> None:
    shutdown = getattr(threading, "_shutdown", None)  # what the interpreter itself calls at exit
    if shutdown is not None:
        shutdown()
        return
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()


def exit_without_teardown(code: int) -> NoReturn:
    """Wait for the non-daemon threads, run the ``atexit`` handlers, flush stdout and stderr, ``os._exit(code)``."""
    try:
        _join_threads()
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # closed, or a broken pipe: nothing more to write
                stream.flush()
        os._exit(code)
