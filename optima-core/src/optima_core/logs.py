"""Python ``logging`` for an ``optima`` command: what the console shows, and the full log of a run.

OPTIMA's own loggers (every name starting with ``optima``: the core, the backends, the plots) reach the console
from INFO on (``-v``: DEBUG, ``-q``: WARNING only); other libraries' loggers from WARNING on. Once a run's output
folder exists, :func:`log_to_file` writes everything of OPTIMA's from DEBUG on, and other libraries' records from
INFO on, to ``<output>/optima.log``. The progress lines of the stages are printed, not logged, and look as before.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

LOG_FILE = "optima.log"
CONSOLE_HANDLER = "optima.console"
FILE_HANDLER = "optima.file"
#: The console threshold of OPTIMA's loggers by verbosity: -q, default, -v.
CONSOLE_LEVELS = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}


class _Threshold(logging.Filter):
    """Pass OPTIMA's records from ``own`` on, everybody else's from ``others`` on."""

    def __init__(self, own: int, others: int) -> None:
        super().__init__()
        self.own = own
        self.others = others

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= (self.own if record.name.startswith("optima") else self.others)


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
    handler.setFormatter(_ConsoleFormatter("%(message)s"))
    _replace(CONSOLE_HANDLER, handler)


def log_to_file(folder: Path) -> Path:
    """Append the full log of this run to ``folder/optima.log`` (replacing the log file of an earlier run)."""
    path = Path(folder) / LOG_FILE
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(_Threshold(logging.DEBUG, logging.INFO))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    _replace(FILE_HANDLER, handler)
    return path


def stop_logging() -> None:
    """Remove (and close) the console handler and the log file, and give the root logger its default level."""
    _replace(CONSOLE_HANDLER, None)
    _replace(FILE_HANDLER, None)
    logging.getLogger().setLevel(logging.WARNING)
