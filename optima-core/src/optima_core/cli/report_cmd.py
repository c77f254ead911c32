"""``optima report OUTPUT_DIR``: rebuild ``report.html`` of a run's output folder from the files in it.

The same code writes the report during a run (after every stage), so a report rebuilt later, after adding
optima-plots for example, shows what the folder holds now. A folder that is not a run's output folder is a user
error (exit code 2).
"""

from __future__ import annotations

from pathlib import Path

import click

from optima_core.cli.errors import user_errors


@click.command("report")
@click.argument("output_dir", type=click.Path(file_okay=True, dir_okay=True, path_type=Path))
@user_errors
def report_command(output_dir: Path) -> None:
    """Rebuild OUTPUT_DIR/report.html, one self-contained page about the run in OUTPUT_DIR."""
    from optima_core.report.build import write_report

    path = write_report(output_dir)
    click.echo(f"report written: {path}")
