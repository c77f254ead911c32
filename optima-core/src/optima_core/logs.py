"""Python ``logging`` for an ``optima`` command: what the console shows, and the full log of a run.

OPTIMA's own loggers (every name starting with ``optima``: the core, the backends, the plots) reach the console
from INFO on (``-v``: DEBUG, ``-q``: WARNING only); other libraries' loggers from WARNING on. Once a run's output
folder exists, :func:`log_to_file` writes everything of OPTIMA's from DEBUG on, and other libraries' records from
INFO on, to ``<output>/optima.log``, including those :func:`hold_for_file` kept while the inputs were loaded. The
progress lines of the stages are printed, not logged, and look as before.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections import deque
from pathlib import Path
from typing import TextIO

LOG_FILE = "optima.log"
CONSOLE_HANDLER = "optima.console"
FILE_HANDLER = "optima.file"
#: The console threshold of OPTIMA's loggers by verbosity: -q, default, -v.
CONSOLE_LEVELS = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}
#: At most this many records (the latest) wait for the log file (a run that fails before its folder has none).
HELD_RECORDS = 10_000
#: The logger of the stages' progress lines: printed by :func:`say`, so only the log file shows its records.
PROGRESS_LOGGER = "optima.progress"


class _Threshold(logging.Filter):
    """Pass OPTIMA's records from ``own`` on, everybody else's from ``others`` on."""

    def __init__(self, own: int, others: int) -> None:
        super().__init__()
        self.own = own
        self.others = others

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= (self.own if record.name.startswith("optima") else self.others)


class _NotProgress(logging.Filter):
    """Leave out the progress lines (:func:`say` has printed them already)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != PROGRESS_LOGGER


class _ConsoleFormatter(logging.Formatter):
    """INFO and DEBUG lines as plain text (like the progress lines); warnings and errors with their level."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {text}"


def _replace(name: str, handler: logging.Handler | None) -> None:
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == name]:
        root.removeHandler(old)
        old.close()
    if handler is not None:
        handler.set_name(name)
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)  # the handlers' filters decide what is shown


def configure_console(verbosity: int) -> None:
    """Show log records on stderr: ``verbosity`` -1 (``-q``), 0 (default) or 1 (``-v``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Threshold(CONSOLE_LEVELS[verbosity], logging.WARNING))
    handler.addFilter(_NotProgress())
    handler.setFormatter(_ConsoleFormatter("%(message)s"))
    _replace(CONSOLE_HANDLER, handler)


def hold_for_file() -> None:
    """Keep what the log file will show from now on, until :func:`log_to_file` writes it (before the run's output
    folder exists: the inputs are loaded first)."""
    handler = logging.handlers.MemoryHandler(capacity=HELD_RECORDS, flushLevel=logging.CRITICAL + 1)
    handler.buffer = deque(maxlen=HELD_RECORDS)  # type: ignore[assignment]  # bounded, if no log file follows
    handler.addFilter(_Threshold(logging.DEBUG, logging.INFO))
    _replace(FILE_HANDLER, handler)


def log_to_file(folder: Path) -> Path:
    """Append the full log of this run to ``folder/optima.log`` (replacing the log file of an earlier run), starting
    with the records held since :func:`hold_for_file`."""
    path = Path(folder) / LOG_FILE
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(_Threshold(logging.DEBUG, logging.INFO))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    for held in logging.getLogger().handlers:
        if held.get_name() == FILE_HANDLER and isinstance(held, logging.handlers.MemoryHandler):
            held.setTarget(handler)  # replacing it closes it, which writes the held records to the file
    _replace(FILE_HANDLER, handler)
    return path


def stop_logging() -> None:
    """Remove (and close) the console handler and the log file, and give the root logger its default level."""
    _replace(CONSOLE_HANDLER, None)
    _replace(FILE_HANDLER, None)
    logging.getLogger().setLevel(logging.WARNING)


def say(message: str, stream: TextIO | None = None) -> None:
    """Print one progress line of a stage (standard output, flushed) and record it in the run's log file."""
    print(message, file=stream or sys.stdout, flush=True)
    logging.getLogger(PROGRESS_LOGGER).info(message)
