"""OPTIMA plots plugin: hook implementations registered through the `optima` entry point.

Import-light: matplotlib and mplhep are imported only when a figure is drawn. The figures keep the signatures the
stages call them with; the run-config's ``plot_label`` and ``plot_lumi_text`` reach them through
:func:`optima_plots.labels.using_plot_label`, set here from the run-config the hooks receive.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import Descriptor, PlotDescriptor


@hookimpl
def optima_register_plots() -> list[PlotDescriptor]:
    return [
        PlotDescriptor(
            "input_data",
            "optima_plots.inputs:plot_input_distributions",
            "Weighted histograms of every input variable per class, before and after the non-linear scaling.",
        ),
        PlotDescriptor(
            "output_distributions",
            "optima_plots.outputs:plot_stacked_outputs",
            "Model outputs per class: stacked with the event weights, and unit-area per split with ratio panels "
            "(optima_plots.outputs:plot_normalised_outputs).",
        ),
        PlotDescriptor(
            "roc_curves",
            "optima_plots.roc:plot_roc_curves",
            "One-vs-rest ROC curves per output node on every split, AUC in the legend, negative weights excluded.",
        ),
        PlotDescriptor(
            "evaluation",
            "optima_plots.evaluation:draw_figures",
            "Every evaluation figure of one model (output distributions and ROC curves) from its predictions.",
        ),
        PlotDescriptor(
            "metric_histories",
            "optima_plots.search:plot_metric_histories",
            "The target metric against the epoch for every trial of a search, the best trials highlighted.",
        ),
        PlotDescriptor(
            "search_overview",
            "optima_plots.search:plot_search",
            "Parallel coordinates of the hyperparameters of every trial, coloured by the final metric.",
        ),
        PlotDescriptor(
            "variable_selection",
            "optima_plots.variable_selection:plot_variable_selection",
            "The target metric of the input-variable selection per iteration, each dropped variable named.",
        ),
        PlotDescriptor(
            "variable_selection_stability",
            "optima_plots.variable_selection:plot_variable_stability",
            "Per variable: how often its removal was judged harmless and the mean paired metric difference.",
        ),
    ]


@hookimpl
def plot_input_data(run_config: Any, dataset: Any, outdir: Any, input_vars_list: Any) -> bool:
    """Draw every input variable (``input_vars_list``, else all of ``dataset``) per class into ``outdir``.

    Draws with the figure registered as ``'input_data'`` in the run's plugin manager (by default
    :func:`optima_plots.inputs.plot_input_distributions`; a plugin may replace it, see ``optima_register_plots``).
    Labels come from ``evaluation_class_labels``; the scalings from ``input_scaling`` (via the built-in
    InputHandler); the experiment label from ``plot_label`` and ``plot_lumi_text``.
    """
    from optima_core.builtin.input_handler import InputHandler
    from optima_core.engine import side_process
    from optima_core.inputs.settings import setting
    from optima_core.inputs.store import as_event_data
    from optima_core.plugins.active import active_manager
    from optima_plots.labels import label_from_run_config

    figure = active_manager("optima-plots' plot_input_data").descriptor("plot", "input_data")
    data = as_event_data(dataset, input_vars_list, what="plot_input_data")
    variables = list(input_vars_list) if input_vars_list is not None else list(data.variables)
    handler = InputHandler(run_config)
    handler.set_vars(variables)
    arguments = (
        data,
        outdir,
        handler.get_vars(),
        handler.get_nonlinear_scaling(),
        setting(run_config, "evaluation_class_labels"),
    )
    label = label_from_run_config(run_config)
    if isinstance(figure.target, str):  # importable by name: may draw in a side process (see draw_labelled)
        side_process.call(f"{__name__}:draw_labelled", figure, label, *arguments)
    else:
        draw_labelled(figure, label, *arguments)
    return True


def draw_labelled(figure: Descriptor, label: Any, *arguments: Any) -> Any:
    """Draw ``figure`` (a registered figure) with ``arguments``, ``label`` above its plots.

    ``plot_input_data`` calls it through :func:`optima_core.engine.side_process.call`: a run draws its input plots
    in a low-priority side process, off its critical path; called anywhere else, the hook draws here.
    """
    from optima_plots.labels import using_plot_label

    with using_plot_label(label):
        return figure.load()(*arguments)


@hookimpl(wrapper=True)
def evaluate(run_config: Any) -> Generator[None, Any, Any]:
    """Wraps whichever implementation evaluates a model (it decides nothing and returns its result unchanged).

    The evaluation figures are drawn inside that call, by the plot producer ``'evaluation'``, whose arguments do not
    include the run-config; this sets the run-config's ``plot_label`` and ``plot_lumi_text`` for them.
    """
    from optima_plots.labels import label_from_run_config, using_plot_label

    with using_plot_label(label_from_run_config(run_config)):
        return (yield)
