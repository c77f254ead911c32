"""``optima export OUTPUT_DIR``: write the ONNX bundles of a finished run (see :mod:`optima_core.deploy`)."""

from __future__ import annotations

import click

from optima_core.cli.errors import user_errors
from optima_core.cli.verbosity import verbosity_options


@click.command("export")
@click.argument("output_dir", metavar="OUTPUT_DIR", type=click.Path(file_okay=False))
@verbosity_options
@user_errors
def export_command(output_dir: str) -> None:
    """Export the cross-validated models of the run in OUTPUT_DIR to ONNX (<models folder>/onnx/models.json)."""
    from optima_core.deploy.rebuild import rebuild_bundles

    for path in rebuild_bundles(output_dir):
        click.echo(str(path))
