"""OPTIMA plots plugin: hook implementations registered through the `optima` entry point.

Import-light: matplotlib and mplhep are imported only when a figure is drawn.
"""

from __future__ import annotations

from typing import Any

from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import PlotDescriptor


@hookimpl
def optima_register_plots() -> list[PlotDescriptor]:
    return [
        PlotDescriptor(
            "input_data",
            "optima_plots.inputs:plot_input_distributions",
            "Weighted histograms of every input variable per class, before and after the non-linear scaling.",
        )
    ]


@hookimpl
def plot_input_data(run_config: Any, dataset: Any, outdir: Any, input_vars_list: Any) -> bool:
    """Draw every input variable (``input_vars_list``, else all of ``dataset``) per class into ``outdir``.

    Labels come from ``evaluation_class_labels``; the scalings from ``input_scaling`` (via the built-in
    InputHandler). See :mod:`optima_plots.inputs`.
    """
    from optima_core.builtin.input_handler import InputHandler
    from optima_core.inputs.settings import setting
    from optima_core.inputs.store import as_event_data
    from optima_plots.inputs import plot_input_distributions

    data = as_event_data(dataset, input_vars_list, what="plot_input_data")
    variables = list(input_vars_list) if input_vars_list is not None else list(data.variables)
    handler = InputHandler(run_config)
    handler.set_vars(variables)
    plot_input_distributions(
        data,
        outdir,
        handler.get_vars(),
        handler.get_nonlinear_scaling(),
        setting(run_config, "evaluation_class_labels"),
    )
    return True
