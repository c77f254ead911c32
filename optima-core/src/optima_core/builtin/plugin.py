"""Hook implementations the core provides: the InputHandler, the history fit, the local and custom clusters."""

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
