"""The options of a run, declared once for ``optima run`` (command line) and :func:`optima_core.api.run` (Python).

Every option of the original's command line is here, by its underscore name, with its type, default and help
text; the CLI turns each into a click option (``--cpus_per_trial`` and ``--cpus-per-trial``), the Python API
takes them as keyword arguments. :func:`resolve_options` fills in the defaults and checks what the command line's
parsing checks (names, types) plus the rules between options, raising a
:class:`~optima_core.config.problems.ConfigError` that lists every problem at once. The resource values themselves
are checked by the cluster that runs the optimization (``--cluster local``: against this machine).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optima_core.config.problems import ConfigError, Problem

#: The ``source`` of the errors :func:`resolve_options` raises (the command line says the same).
OPTIONS_SOURCE = "The command line"


@dataclass(frozen=True)
class RunOption:
    """One option of a run: its underscore name, its type (``bool`` options are flags), default and help."""

    name: str
    type: type
    default: Any
    help: str
    #: Shown as ``[default: ...]`` in ``optima run --help``; False when the help text describes the default.
    show_default: bool = True
    #: A file path (the command line checks it is not a directory).
    is_path: bool = False


RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption("defaults", str, None, "Defaults file overriding the built-in defaults.", False, is_path=True),
    RunOption("name", str, "DNN_optimization", "Job name; also names the log file of cluster jobs."),
    RunOption("cluster", str, "local", "Where to run: 'local', a registered cluster, or 'custom'."),
    RunOption("cluster_config", str, None, "File with a CustomCluster class (--cluster custom).", False, True),
    RunOption("cpus", int, None, "CPUs to use. [default: all CPUs available to this process]", False),
    RunOption("gpus", int, 0, "GPUs to use."),
    RunOption("mem_per_cpu", float, None, "Memory per CPU in MB. [default: let Ray measure]", False),
    RunOption("cpus_per_trial", float, 1.0, "CPUs per trial."),
    RunOption("gpus_per_trial", float, 0.0, "GPUs per trial (fractions share a GPU)."),
    RunOption("frac_cpus_reserved", float, 0.0, "Fraction of CPUs kept free of trials (rounded up)."),
    RunOption(
        "max_pending_trials", int, None, "Trials allowed to wait for resources. [default: concurrent trials]", False
    ),
    RunOption("temp_dir", str, None, "Ray's temporary directory (absolute, short path).", False),
    RunOption("fixed_ray_node_size", bool, False, "Cluster: every node gets the same CPUs/GPUs.", False),
    RunOption("workers", int, None, "Cluster: number of nodes (with --fixed_ray_node_size).", False),
    RunOption("cpus_per_worker", int, None, "Cluster: CPUs per node (with --fixed_ray_node_size).", False),
    RunOption("gpus_per_worker", int, None, "Cluster: GPUs per node (with --fixed_ray_node_size).", False),
    RunOption("min_cpus_per_ray_node", int, None, "Cluster: minimum CPUs per node.", False),
    RunOption("runtime", float, 12.0, "Cluster: hours to reserve."),
    RunOption("exclude", str, None, "Cluster: comma-separated nodes to avoid.", False),
    RunOption("resume", bool, False, "Continue an interrupted run in its output folder.", False),
    RunOption("address", str, None, "Join an existing Ray cluster at this address instead of starting one.", False),
)

OPTIONS_BY_NAME = {option.name: option for option in RUN_OPTIONS}

_EXPECTED = {int: "an integer", float: "a number", bool: "True or False", str: "a string"}


def _convert(option: RunOption, value: Any) -> tuple[Any, str | None]:
    """``value`` as the option's type, or the reason it is not one (``None`` is every option's "not given")."""
    if value is None:
        return (None, None) if option.type is not bool else (None, _EXPECTED[bool])
    if option.type is bool:
        return (value, None) if isinstance(value, bool) else (None, _EXPECTED[bool])
    if option.type is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return (value, None) if ok else (None, _EXPECTED[int])
    if option.type is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return (float(value), None) if ok else (None, _EXPECTED[float])
    if isinstance(value, Path) and (option.is_path or option.name == "temp_dir"):
        return str(value), None
    return (
        (value, None) if isinstance(value, str) else (None, _EXPECTED[str] + (" or a Path" if option.is_path else ""))
    )


def resolve_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Every run option by its underscore name: the given ones (checked) and the defaults of the others.

    Raises :class:`ConfigError` listing every unknown name (with the closest known one), every value of the wrong
    type and ``cluster='custom'`` without ``cluster_config``.
    """
    problems: list[Problem] = []
    resolved = {option.name: option.default for option in RUN_OPTIONS}
    for name, value in options.items():
        option = OPTIONS_BY_NAME.get(name.replace("-", "_"))
        if option is None:
            close = difflib.get_close_matches(name, list(OPTIONS_BY_NAME), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(OPTIONS_BY_NAME)}"
            problems.append(Problem(f"option '{name}'", value, "an option of optima run", hint))
            continue
        converted, expected = _convert(option, value)
        if expected is not None:
            problems.append(Problem(f"--{option.name}", value, expected))
        else:
            resolved[option.name] = converted
    if not problems and resolved["cluster"] == "custom" and not resolved["cluster_config"]:
        problems.append(
            Problem(
                "--cluster_config",
                "(not given)",
                "a file defining CustomCluster: --cluster custom needs --cluster_config FILE",
            )
        )
    if problems:
        raise ConfigError(OPTIONS_SOURCE, problems)
    return resolved
