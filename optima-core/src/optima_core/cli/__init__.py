"""The ``optima`` command line: ``optima run``, ``optima check``, ``optima plugins``, ``optima report``,
``optima --version``.

The original's spelling ``optima -c CONFIG --cpus 3 ...`` (no subcommand) is accepted and means ``optima run``,
so existing job scripts keep working. Only click and the core's light modules are imported here; Ray, the ML
frameworks and matplotlib are imported by the code that needs them, after the arguments are checked.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from optima_core import __version__
from optima_core.cli.check_cmd import check_command
from optima_core.cli.export_cmd import export_command
from optima_core.cli.plugins_cmd import plugins_command
from optima_core.cli.report_cmd import report_command
from optima_core.cli.run_cmd import run_command

COMMANDS = ("run", "check", "plugins", "report", "export")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", "-V", prog_name="optima", message="%(prog)s %(version)s")
def cli() -> None:
    """OPTIMA: hyperparameter optimization and input-variable selection for Keras and Lightning networks.

    \b
    Start with:  optima check my_run_config.py   (validate, show resolved settings and hooks)
                 optima run my_run_config.py     (run the optimization)
    """


cli.add_command(run_command)
cli.add_command(check_command)
cli.add_command(plugins_command)
cli.add_command(report_command)
cli.add_command(export_command)


def _translate_original_spelling(args: list[str]) -> list[str]:
    """``optima -c CONFIG ...`` / ``optima --config CONFIG ...`` -> ``optima run --config CONFIG ...``."""
    if not args or args[0] in COMMANDS or args[0] in ("-h", "--help", "-V", "--version"):
        return args
    if any(a in ("-c", "--config") or a.startswith("--config=") for a in args):
        return ["run", *args]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``optima`` script.

    As the script (``argv`` None), ``optima run`` ends the process without tearing down every imported module
    (:func:`optima_core.cli.process_exit.exit_without_teardown`): after a run that is about half a second.
    """
    args = _translate_original_spelling(list(sys.argv[1:] if argv is None else argv))
    if argv is not None or not args or args[0] != "run":
        cli.main(args=args, prog_name="optima")
        return
    from optima_core.cli.process_exit import exit_code, exit_without_teardown

    try:
        cli.main(args=args, prog_name="optima")
    except SystemExit as done:
        exit_without_teardown(exit_code(done))
    exit_without_teardown(0)
