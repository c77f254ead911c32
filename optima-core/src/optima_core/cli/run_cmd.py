"""``optima run``: load and validate everything, plan resources, then hand over to the engine.

Every command-line argument of the original is accepted, in its original underscore spelling
(``--cpus_per_trial``) and in the dashed one (``--cpus-per-trial``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from optima_core.cli.errors import remember_manager, stopped, user_errors
from optima_core.cli.verbosity import verbosity_options


def _option(*names: str, **kwargs: Any) -> Any:
    """An option accepting both ``--a_b`` and ``--a-b``; the destination is the underscore name."""
    long_names = [n for n in names if n.startswith("--")]
    spellings: list[str] = []
    for name in names:
        spellings.append(name)
        if name.startswith("--") and "_" in name and name.replace("_", "-") not in names:
            spellings.append(name.replace("_", "-"))
    destination = long_names[0][2:]
    return click.option(*spellings, destination, **kwargs)


RUN_OPTIONS = [
    _option(
        "--defaults",
        type=click.Path(dir_okay=False),
        default=None,
        help="Defaults file overriding the built-in defaults.",
    ),
    _option(
        "--name",
        default="DNN_optimization",
        show_default=True,
        help="Job name; also names the log file of cluster jobs.",
    ),
    _option(
        "--cluster",
        default="local",
        show_default=True,
        help="Where to run: 'local', a registered cluster, or 'custom'.",
    ),
    _option(
        "--cluster_config",
        type=click.Path(dir_okay=False),
        default=None,
        help="File with a CustomCluster class (--cluster custom).",
    ),
    _option("--cpus", type=int, default=None, help="CPUs to use. [default: all CPUs available to this process]"),
    _option("--gpus", type=int, default=0, show_default=True, help="GPUs to use."),
    _option("--mem_per_cpu", type=float, default=None, help="Memory per CPU in MB. [default: let Ray measure]"),
    _option("--cpus_per_trial", type=float, default=1.0, show_default=True, help="CPUs per trial."),
    _option(
        "--gpus_per_trial", type=float, default=0.0, show_default=True, help="GPUs per trial (fractions share a GPU)."
    ),
    _option(
        "--frac_cpus_reserved",
        type=float,
        default=0.0,
        show_default=True,
        help="Fraction of CPUs kept free of trials (rounded up).",
    ),
    _option(
        "--max_pending_trials",
        type=int,
        default=None,
        help="Trials allowed to wait for resources. [default: concurrent trials]",
    ),
    _option("--temp_dir", default=None, help="Ray's temporary directory (absolute, short path)."),
    _option("--fixed_ray_node_size", is_flag=True, default=False, help="Cluster: every node gets the same CPUs/GPUs."),
    _option("--workers", type=int, default=None, help="Cluster: number of nodes (with --fixed_ray_node_size)."),
    _option("--cpus_per_worker", type=int, default=None, help="Cluster: CPUs per node (with --fixed_ray_node_size)."),
    _option("--gpus_per_worker", type=int, default=None, help="Cluster: GPUs per node (with --fixed_ray_node_size)."),
    _option("--min_cpus_per_ray_node", type=int, default=None, help="Cluster: minimum CPUs per node."),
    _option("--runtime", type=float, default=12.0, show_default=True, help="Cluster: hours to reserve."),
    _option("--exclude", default=None, help="Cluster: comma-separated nodes to avoid."),
    _option("--resume", is_flag=True, default=False, help="Continue an interrupted run in its output folder."),
    _option("--address", default=None, help="Join an existing Ray cluster at this address instead of starting one."),
]


def _apply(options: list[Any]) -> Any:
    def decorate(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


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
    from optima_core.clusters.target import RunRequest, select_cluster
    from optima_core.config.loader import load_run_config
    from optima_core.config.validation import check
    from optima_core.engine.interruption import RunInterrupted
    from optima_core.plugins.manager import create_plugin_manager

    path = config_path or config_option
    if path is None:
        raise click.UsageError("give the run-config: optima run CONFIG (or -c CONFIG)")
    if config_path and config_option and config_path != config_option:
        raise click.UsageError(f"two run-configs given: {config_path} and {config_option}")
    if arguments["cluster"] == "custom" and not arguments["cluster_config"]:
        raise click.UsageError("--cluster custom needs --cluster_config FILE (a file defining CustomCluster)")

    run_config = load_run_config(Path(path), arguments["defaults"])
    manager = create_plugin_manager(run_config_module=run_config.module)
    remember_manager(manager)
    report = check(run_config, manager)
    for warning in report.warnings:
        click.echo(click.style("warning: ", fg="yellow") + warning, err=True)

    cluster = select_cluster(manager, arguments["cluster"], arguments["cluster_config"])
    try:
        cluster.launch(RunRequest(run_config, manager, Path(path), arguments, report=click.echo))
    except RunInterrupted as stop:
        stopped(stop.signal_name, stop.exit_code, path)
