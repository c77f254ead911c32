"""Turn user errors into one clear message and exit code 2, without a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from optima_core.config.problems import ConfigError
from optima_core.engine.errors import OptimizationFailedError
from optima_core.plugins.manager import PluginError

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(click.style("error: ", fg="red", bold=True) + self.format_message(), err=True)


def user_errors(function: F) -> F:
    """Report :class:`ConfigError` and :class:`PluginError` as user errors (exit 2, no traceback)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (ConfigError, PluginError, OptimizationFailedError) as error:
            raise UserError(str(error)) from error
        except NotImplementedError as error:
            raise UserError(f"not available in this version of OPTIMA: {error}") from error

    return wrapper  # type: ignore[return-value]
