"""Hook implementations the core provides: the InputHandler, the history fit, the evaluation, the local and custom
clusters."""

from __future__ import annotations

from typing import Any

from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import ClusterDescriptor


@hookimpl
def InputHandler() -> type:  # noqa: N802 - the run-config name
    from optima_core.builtin.input_handler import InputHandler as BuiltinInputHandler

    return BuiltinInputHandler


@hookimpl
def fit_function(df: Any, metric_to_fit: str, metric_to_fit_op: Any, overtraining_conditions: Any) -> Any:
    from optima_core.builtin.fit import fit_history

    return fit_history(df, metric_to_fit)


@hookimpl
def optima_register_clusters() -> list[ClusterDescriptor]:
    return [
        ClusterDescriptor(
            "local",
            "optima_core.clusters.local:LocalCluster",
            "This machine: Ray is started and stopped by optima run.",
        ),
        ClusterDescriptor(
            "custom",
            "optima_core.clusters.custom:custom_cluster",
            "A CustomCluster class loaded from --cluster_config FILE.",
        ),
    ]


@hookimpl(trylast=True)
def evaluate(
    run_config: Any,
    model_path: Any,
    model_config: Any,
    dataset_split: Any,
    input_handler: Any,
    fig_dir: Any,
    native_metrics: Any,
    weighted_native_metrics: Any,
    custom_metrics: Any,
    composite_metrics: Any,
    class_labels: Any,
    cpus: Any,
    print_results: bool,
    return_unfilled: bool,
) -> Any:
    """The built-in evaluation (loss and every metric per split; figures by name), see
    :mod:`optima_core.evaluation.builtin`. A run-config or plugin ``evaluate`` replaces it."""
    from optima_core.evaluation.builtin import evaluate as builtin_evaluate

    return builtin_evaluate(
        run_config=run_config,
        model_path=model_path,
        model_config=model_config,
        dataset_split=dataset_split,
        input_handler=input_handler,
        fig_dir=fig_dir,
        native_metrics=native_metrics,
        weighted_native_metrics=weighted_native_metrics,
        custom_metrics=custom_metrics,
        composite_metrics=composite_metrics,
        class_labels=class_labels,
        cpus=cpus,
        print_results=print_results,
        return_unfilled=return_unfilled,
    )
