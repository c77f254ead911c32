"""Turn user errors into one clear message and exit code 2, without a traceback; bugs keep their traceback.

A user error is an :class:`~optima_core.errors.OptimaUserError`, found before or after Ray started (also behind
Ray's wrappers), or a ``NotImplementedError`` raised by a plugin's code, reported as a plugin error naming the
plugin. A command that builds a plugin manager hands it to :func:`remember_manager` so the plugin can be named.
With ``-v`` the traceback of a user error is logged too (an exception raised by the user's own code, for example).
A run stopped by Ctrl-C or SIGTERM ends with one line saying how to continue it (:func:`stopped`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from optima_core.errors import find_user_error

F = TypeVar("F", bound=Callable[..., Any])

_MANAGER_KEY = "optima.plugin_manager"

logger = logging.getLogger(__name__)


class UserError(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(click.style("error: ", fg="red", bold=True) + self.format_message(), err=True)


def stopped(signal_name: str, exit_code: int, config: str) -> NoReturn:
    """End a run stopped by a signal with one line saying how to continue it, and exit with ``exit_code`` (128 + the
    signal's number: 130 Ctrl-C, 143 SIGTERM, as a shell reports a process ended by that signal)."""
    message = (
        f"the run was stopped ({signal_name}); what finished is saved. Continue it with: optima run {config} --resume"
    )
    click.echo(click.style("error: ", fg="red", bold=True) + message, err=True)
    click.get_current_context().exit(exit_code)


def remember_manager(manager: Any) -> None:
    """Keep the command's plugin manager, so a plugin raising ``NotImplementedError`` can be named."""
    click.get_current_context().meta[_MANAGER_KEY] = manager


def user_errors(function: F) -> F:
    """Report user errors (exit 2, one message, no traceback); anything else propagates with its traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except NotImplementedError as error:
            manager = click.get_current_context().meta.get(_MANAGER_KEY)
            plugin = manager.plugin_behind(error) if manager is not None else None
            if plugin is None:
                raise
            detail = f": {error}" if str(error) else ""
            raise UserError(f"plugin {plugin} raised NotImplementedError{detail}") from error
        except Exception as error:
            user_error = find_user_error(error)
            if user_error is None:
                raise
            logger.debug("the traceback of this error:", exc_info=error)
            raise UserError(str(user_error)) from error

    return wrapper  # type: ignore[return-value]
