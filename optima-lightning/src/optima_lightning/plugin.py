"""OPTIMA Lightning plugin: the 'Lightning' backend and the built-in MLP (entry point `optima = lightning`).

Import-light: nothing here imports the framework; it is imported when a Lightning model is actually trained, or
when a run-config imports it, and then without what Lightning imports but does not use (:mod:`.lean_import`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import BackendDescriptor, Hyperparameter
from optima_lightning import lean_import
from optima_lightning.hyperparameters import ACTIVATIONS, INITIALIZERS, LOSS_FUNCTIONS, MUTABLE

lean_import.install()

#: What the built-in MLP reads and accepts (:func:`optima_lightning.hyperparameters.resolve` checks the same at
#: training time); validation refuses search-space keys and values outside it before Ray starts.
HYPERPARAMETERS: tuple[Hyperparameter, ...] = (
    Hyperparameter("num_layers", minimum=0, integer=True),
    Hyperparameter("units", minimum=1, integer=True),
    Hyperparameter("units_N", minimum=1, integer=True),
    Hyperparameter("activation", choices=ACTIVATIONS),
    Hyperparameter("kernel_initializer", choices=INITIALIZERS),
    Hyperparameter("bias_initializer", choices=INITIALIZERS),
    Hyperparameter("l1_lambda", minimum=0),
    Hyperparameter("l2_lambda", minimum=0),
    Hyperparameter("dropout", minimum=0, maximum=1, max_exclusive=True),
    Hyperparameter("learning_rate", minimum=0, min_exclusive=True),
    Hyperparameter("Adam_beta_1", minimum=0, maximum=1, max_exclusive=True),
    Hyperparameter("one_minus_Adam_beta_2", minimum=0, maximum=1, min_exclusive=True),
    Hyperparameter("Adam_epsilon", minimum=0),
    Hyperparameter("loss_function", choices=LOSS_FUNCTIONS),
    Hyperparameter("loss_weight_class_N", minimum=0),
)


@hookimpl
def optima_register_backends() -> list[BackendDescriptor]:
    return [
        BackendDescriptor(
            "Lightning",
            "optima_lightning.backend:LightningBackend",
            "PyTorch Lightning models (run-config LitModel, or the built-in MLP)",
            requires=("lightning", "torch", "torchmetrics"),
            install_hint="pip install optima-lightning",
            required_hooks=("LitModel",),
            model_hooks=("LitModel",),
            mutatable=MUTABLE,
            scalings=("linear", "sqrt", "log10"),
            hyperparameters=HYPERPARAMETERS,
            onnx_exporter="optima_lightning.onnx_export",
        )
    ]


@hookimpl(trylast=True)
def LitModel() -> type:  # noqa: N802 - the run-config name
    """The built-in MLP, used when neither the run-config nor another plugin provides a LitModel."""
    from optima_lightning.mlp import LitModel as BuiltinLitModel

    return BuiltinLitModel


def is_lightning_run(run_config: Any) -> bool:
    """Whether ``run_config`` selects the Lightning backend.

    The evaluation hooks below ask this before importing torch: in a run of another backend they answer ``None``
    without loading torch and Lightning into the process.
    """
    if isinstance(run_config, Mapping):
        return run_config.get("model_type") == "Lightning"
    return getattr(run_config, "model_type", None) == "Lightning"


@hookimpl(trylast=True)
def get_loss(run_config: Any, model_config: Any, model: Any, dataset: Any, input_handler: Any) -> Any:
    if not is_lightning_run(run_config):
        return None
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
    if not is_lightning_run(run_config):
        return None
    from optima_lightning.evaluation import get_native_metric_values as builtin

    return builtin(run_config, native_metrics, model_config, model, dataset_or_dataloader, input_handler)
