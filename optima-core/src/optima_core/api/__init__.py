"""OPTIMA from Python: run an optimization, read a finished run, predict with its models.

.. code-block:: python

    from optima_core import api

    summary = api.run("my_run_config.py", cpus=4)          # or a dict of run-config values, or a module
    summary.stage("main_hyperopt").selection("best_value").evaluation["average"]
    run = api.load_run(summary.output)                     # the same summary, read from the output folder
    outputs = run.predict(dataframe)                       # each event predicted by the fold model that never saw it

:func:`run` takes the options of ``optima run`` as keyword arguments; ``optima run`` itself calls the same code.
Everything heavy (Ray, the ML frameworks) is imported only when a run starts or a model is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from optima_core.api.options import RUN_OPTIONS, RunOption, resolve_options
from optima_core.api.runner import run
from optima_core.api.summary import RunSummary, SelectionSummary, StageSummary, read_summary

if TYPE_CHECKING:
    from optima_core.api.predict import LoadedRun


def load_run(output_dir: str | Path) -> LoadedRun:
    """The finished (or interrupted) run in ``output_dir``: its summary, and :meth:`LoadedRun.predict`.

    ``output_dir`` is a run's output folder (``<output_path>/<stages>_<output_name>``); any other folder raises an
    :class:`~optima_core.errors.OptimaUserError` saying what was expected.
    """
    from optima_core.api.predict import LoadedRun

    return LoadedRun(read_summary(output_dir))


def __getattr__(name: str) -> Any:
    if name == "LoadedRun":  # imported on first use: it needs NumPy, which the CLI's light commands avoid
        from optima_core.api.predict import LoadedRun

        return LoadedRun
    raise AttributeError(f"module 'optima_core.api' has no attribute {name!r}")


__all__ = [
    "RUN_OPTIONS",
    "LoadedRun",
    "RunOption",
    "RunSummary",
    "SelectionSummary",
    "StageSummary",
    "load_run",
    "resolve_options",
    "run",
]
