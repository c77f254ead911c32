"""Run an optimization from Python (:func:`run`) or the command line (``optima run`` calls :func:`execute`).

Both do the same, in the same order, with the same errors: resolve the options (:mod:`optima_core.api.options`),
load the run-config (path, module or dict: :mod:`optima_core.api.configs`), build its plugin manager, validate
everything before anything expensive starts, and hand the run to the cluster ``cluster`` names (``local``: here,
now). Errors a user can fix are :class:`~optima_core.errors.OptimaUserError`; Ctrl-C or SIGTERM during the run
raises :class:`~optima_core.engine.interruption.RunInterrupted` (a ``KeyboardInterrupt``) after saving the state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from optima_core.api.options import resolve_options
from optima_core.api.summary import RunSummary, read_summary
from optima_core.engine.phases import run_requested

logger = logging.getLogger("optima.api")


def _log(message: str) -> None:
    logger.info(message)


def _warn(message: str) -> None:
    logger.warning("warning: %s", message)


def execute(
    config: Any,
    options: Mapping[str, Any],
    *,
    report: Callable[[str], None] = _log,
    warn: Callable[[str], None] = _warn,
    on_manager: Callable[[Any], None] | None = None,
) -> RunSummary:
    """Check and run ``config`` with the run ``options``; returns the summary of its output folder.

    ``report`` prints a progress line, ``warn`` a validation warning; ``on_manager`` is given the plugin manager as
    soon as it exists (the CLI uses it to name a plugin that raises ``NotImplementedError``). A batch cluster only
    submits the job: the summary then holds what the folder holds when the job is submitted (often nothing yet);
    read it again with :func:`optima_core.api.load_run` once the job has ended.
    """
    from optima_core.api.configs import DICT_CONFIG_PATH, load_config
    from optima_core.clusters.target import RunRequest, select_cluster
    from optima_core.config.validation import check
    from optima_core.engine.output import MANIFEST, output_folder
    from optima_core.plugins.manager import create_plugin_manager

    arguments = resolve_options(options)
    run_config = load_config(config, arguments["defaults"])
    manager = create_plugin_manager(run_config_module=run_config.module)
    if on_manager is not None:
        on_manager(manager)
    checked = check(run_config, manager)
    for warning in checked.warnings:
        warn(warning)
    cluster = select_cluster(manager, arguments["cluster"], arguments["cluster_config"])
    config_path = run_config.path if run_config.path is not None else DICT_CONFIG_PATH
    cluster.launch(RunRequest(run_config, manager, Path(config_path), arguments, report=report))
    folder = output_folder(run_config)
    if not (folder / MANIFEST).is_file():
        return RunSummary(folder, (), None)
    return read_summary(folder)


def run(config: Any, **options: Any) -> RunSummary:
    """Run the optimization ``config`` describes and return the summary of its output folder.

    ``config``: the path of a run-config file, an imported run-config module, or a dict of run-config values
    (``{"perform_main_hyperopt": True, "max_epochs": 20, ...}``). ``options``: those of ``optima run``, by their
    underscore names and with the same defaults (``cpus=2``, ``cpus_per_trial=1``, ``resume=True``,
    ``cluster="local"``, ...). Problems with either raise :class:`~optima_core.errors.OptimaUserError` listing all
    of them, before anything expensive starts.
    """
    with run_requested():  # the run's start-up counts from this call, not from the start of the process
        return execute(config, options)
