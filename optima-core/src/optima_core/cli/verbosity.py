"""The ``-v/--verbose`` and ``-q/--quiet`` options of ``optima run`` and ``optima check``; they set up logging."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from optima_core.logs import configure_console, stop_logging

F = TypeVar("F", bound=Callable[..., Any])


def verbosity_options(function: F) -> F:
    """Add ``-v``/``-q``; the command's log records reach the console at DEBUG / INFO (default) / WARNING."""

    @click.option("-q", "--quiet", is_flag=True, help="Show only warnings and errors of the log (not its INFO lines).")
    @click.option("-v", "--verbose", is_flag=True, help="Also show the DEBUG lines of the log.")
    @functools.wraps(function)
    def wrapper(*args: Any, verbose: bool, quiet: bool, **kwargs: Any) -> Any:
        if verbose and quiet:
            raise click.UsageError("-v/--verbose and -q/--quiet exclude each other")
        configure_console(1 if verbose else -1 if quiet else 0)
        click.get_current_context().call_on_close(stop_logging)
        return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
