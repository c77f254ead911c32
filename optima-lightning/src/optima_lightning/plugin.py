"""OPTIMA Lightning plugin: the 'Lightning' backend and the built-in MLP (entry point `optima = lightning`).

Import-light: nothing here imports the framework; it is imported when a Lightning model is actually trained.
"""

from __future__ import annotations

from typing import Any

from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import BackendDescriptor
from optima_lightning.hyperparameters import MUTABLE


@hookimpl
def optima_register_backends() -> list[BackendDescriptor]:
    return [
        BackendDescriptor(
            "Lightning",
            "optima_lightning.backend:LightningBackend",
            "PyTorch Lightning models (run-config LitModel, or the built-in MLP)",
            requires=("lightning", "torch", "torchmetrics"),
            required_hooks=("LitModel",),
            model_hooks=("LitModel",),
            mutatable=MUTABLE,
            scalings=("linear", "sqrt", "log10"),
        )
    ]


@hookimpl(trylast=True)
def LitModel() -> type:  # noqa: N802 - the run-config name
    """The built-in MLP, used when neither the run-config nor another plugin provides a LitModel."""
    from optima_lightning.mlp import LitModel as BuiltinLitModel

    return BuiltinLitModel


@hookimpl(trylast=True)
def get_loss(run_config: Any, model_config: Any, model: Any, dataset: Any, input_handler: Any) -> Any:
    from optima_lightning.evaluation import get_loss as builtin

    return builtin(run_config, model_config, model, dataset, input_handler)


@hookimpl(trylast=True)
def get_native_metric_values(
    run_config: Any,
    native_metrics: Any,
    model_config: Any,
    model: Any,
    dataset_or_dataloader: Any,
    input_handler: Any,
) -> Any:
    from optima_lightning.evaluation import get_native_metric_values as builtin

    return builtin(run_config, native_metrics, model_config, model, dataset_or_dataloader, input_handler)
