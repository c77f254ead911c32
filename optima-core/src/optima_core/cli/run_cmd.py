"""``optima run``: a thin command-line wrapper around :func:`optima_core.api.runner.execute`.

Every command-line argument of the original is accepted, in its original underscore spelling
(``--cpus_per_trial``) and in the dashed one (``--cpus-per-trial``); the options are declared once, in
:data:`optima_core.api.options.RUN_OPTIONS`, for this command and for the Python API alike.
"""

from __future__ import annotations

from typing import Any

import click

from optima_core.api.options import RUN_OPTIONS, RunOption
from optima_core.cli.errors import remember_manager, stopped, user_errors
from optima_core.cli.verbosity import verbosity_options


def _click_option(option: RunOption) -> Any:
    """``option`` as a click option accepting both ``--a_b`` and ``--a-b``; the destination is the underscore name."""
    spellings = [f"--{option.name}"]
    if "_" in option.name:
        spellings.append(f"--{option.name.replace('_', '-')}")
    if option.type is bool:
        return click.option(*spellings, option.name, is_flag=True, default=option.default, help=option.help)
    kind: Any = click.Path(dir_okay=False) if option.is_path else option.type
    return click.option(
        *spellings, option.name, type=kind, default=option.default, show_default=option.show_default, help=option.help
    )


def _apply(options: tuple[RunOption, ...]) -> Any:
    def decorate(function: Any) -> Any:
        for option in reversed(options):
            function = _click_option(option)(function)
        return function

    return decorate


def _warn(message: str) -> None:
    click.echo(click.style("warning: ", fg="yellow") + message, err=True)


@click.command("run")
@click.argument("config_path", metavar="CONFIG", required=False, type=click.Path(dir_okay=False))
@click.option(
    "-c",
    "--config",
    "config_option",
    type=click.Path(dir_okay=False),
    default=None,
    help="The run-config (alternative to CONFIG).",
)
@_apply(RUN_OPTIONS)
@verbosity_options
@user_errors
def run_command(config_path: str | None, config_option: str | None, **arguments: Any) -> None:
    """Run the optimization described by the run-config CONFIG."""
    from optima_core.api.runner import execute
    from optima_core.engine.interruption import RunInterrupted

    path = config_path or config_option
    if path is None:
        raise click.UsageError("give the run-config: optima run CONFIG (or -c CONFIG)")
    if config_path and config_option and config_path != config_option:
        raise click.UsageError(f"two run-configs given: {config_path} and {config_option}")
    try:
        execute(path, arguments, report=click.echo, warn=_warn, on_manager=remember_manager)
    except RunInterrupted as stop:
        stopped(stop.signal_name, stop.exit_code, path)
