"""``optima check``: validate a run-config and show the resolved settings, where each hook comes from and the
versions of the frameworks each installed backend requires (read from package metadata, nothing is imported).
With ``--data`` it also loads the input data as ``optima run`` would, with every check of the data."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from optima_core.cli.errors import remember_manager, user_errors
from optima_core.cli.verbosity import verbosity_options
from optima_core.engine.output import jsonable


def _versions_text(versions: dict[str, str | None]) -> str:
    if not versions:
        return "(no frameworks declared)"
    return ", ".join(f"{name} {version}" if version else f"{name} NOT INSTALLED" for name, version in versions.items())


def _value_text(value: Any) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "np.inf"
    text = repr(value)
    return text if len(text) <= 90 else text[:87] + "..."


def _check_data(run_config: Any, manager: Any) -> list[str]:
    """Load the inputs a run of ``run_config`` uses, with every check of the data; one line per kind of split.

    A replaced input hook may return Ray Datasets: Ray then runs for the duration, on this machine.
    """
    from contextlib import ExitStack

    from optima_core.engine.context import experiment_inputs, input_kinds, inputs_need_ray, new_input_handler
    from optima_core.inputs.splitting import describe_split

    input_handler = new_input_handler(manager.hooks, run_config)
    lines = []
    with ExitStack() as session:
        if inputs_need_ray(manager):
            from optima_core.clusters.local import LocalCluster, ResourceRequest
            from optima_core.engine.ray_session import ray_session

            session.enter_context(ray_session(LocalCluster().plan(ResourceRequest())))
        for crossvalidation in input_kinds(run_config):
            folds = experiment_inputs(manager, run_config, input_handler, None, crossvalidation)
            sets = [folds[0][name] for name in ("train", "val", "test") if name in folds[0]]
            what = f"cross-validation, {len(folds)} folds; fold 0" if crossvalidation else "single split"
            lines.append(f"{what}: {describe_split(sets)}")
    return lines


@click.command("check")
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option(
    "--defaults", type=click.Path(dir_okay=False), default=None, help="Defaults file overriding the built-in defaults."
)
@click.option("--json", "as_json", is_flag=True, help="Print the resolved configuration and hooks as JSON.")
@click.option(
    "--data", "check_data", is_flag=True, help="Also load and check the input data as 'optima run' would (no plots)."
)
@verbosity_options
@user_errors
def check_command(config_path: str, defaults: str | None, as_json: bool, check_data: bool) -> None:
    """Validate the run-config CONFIG; print resolved settings and which plugin provides each hook."""
    from optima_core.config.loader import load_run_config
    from optima_core.config.parameters import PARAMETERS
    from optima_core.config.validation import check
    from optima_core.plugins.manager import create_plugin_manager
    from optima_core.plugins.runconfig import run_config_hook_names

    run_config = load_run_config(Path(config_path), defaults)
    manager = create_plugin_manager(run_config_module=run_config.module)
    remember_manager(manager)
    report = check(run_config, manager)
    data_summary = _check_data(run_config, manager) if check_data else None
    values = run_config.as_dict()
    hooks = {name: manager.hook_providers(name) for name in run_config_hook_names()}
    frameworks = {name: backend.framework_versions() for name, backend in sorted(manager.backends().items())}

    if as_json:
        payload = {
            "config": str(config_path),
            "parameters": {
                p.name: {"value": jsonable(values[p.name]), "source": run_config.sources.get(p.name, "")}
                for p in PARAMETERS
            },
            "hooks": hooks,
            "backends": frameworks,
            "warnings": report.warnings,
            "extra_names": report.extra_names,
            **({"data": data_summary} if data_summary is not None else {}),
        }
        click.echo(json.dumps(payload, indent=2))
        return

    click.echo(click.style(f"{config_path}: valid", fg="green", bold=True))
    section = None
    for parameter in PARAMETERS:
        if parameter.section != section:
            section = parameter.section
            click.echo(f"\n[{section}]")
        source = run_config.sources.get(parameter.name, "")
        marker = "" if source == "built-in" else f"   ({source})"
        click.echo(f"  {parameter.name} = {_value_text(values[parameter.name])}{marker}")
    click.echo("\n[Hooks]  (first provider wins)")
    for name, providers in hooks.items():
        click.echo(f"  {name}: {' > '.join(providers) if providers else '-'}")
    click.echo("\n[Backends]  (frameworks required, installed versions)")
    for name, versions in frameworks.items():
        marker = "   (model_type)" if name == run_config.model_type else ""
        click.echo(f"  {name}: {_versions_text(versions)}{marker}")
    if report.extra_names:
        click.echo(
            "\nNot OPTIMA parameters (available to hooks as run_config.<name>): " + ", ".join(report.extra_names)
        )
    if data_summary is not None:
        click.echo("\n[Data]  (loaded and checked as 'optima run' loads them)")
        for line in data_summary:
            click.echo(f"  {line}")
    for warning in report.warnings:
        click.echo(click.style("warning: ", fg="yellow") + warning)
