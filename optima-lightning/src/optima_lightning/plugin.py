"""OPTIMA Lightning plugin: the 'Lightning' backend and the built-in MLP (entry point `optima = lightning`).

Import-light: nothing here imports the framework; it is imported when a Lightning model is actually trained.
"""

from __future__ import annotations

from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import BackendDescriptor


@hookimpl
def optima_register_backends() -> list[BackendDescriptor]:
    return [
        BackendDescriptor(
            "Lightning",
            "optima_lightning.backend:LightningBackend",
            "PyTorch Lightning models (run-config LitModel, or the built-in MLP)",
            requires=("lightning", "torch", "torchmetrics"),
        )
    ]


@hookimpl(trylast=True)
def LitModel() -> type:  # noqa: N802 - the run-config name
    """The built-in MLP, used when neither the run-config nor another plugin provides a LitModel."""
    from optima_lightning.mlp import LitModel as BuiltinLitModel

    return BuiltinLitModel
