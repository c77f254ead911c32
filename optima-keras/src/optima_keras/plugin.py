"""OPTIMA Keras plugin: registers the 'Keras' backend (entry point `optima = keras`).

Import-light: nothing here imports the framework; it is imported when a Keras model is actually trained.
"""

from __future__ import annotations

from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import BackendDescriptor


@hookimpl
def optima_register_backends() -> list[BackendDescriptor]:
    return [
        BackendDescriptor(
            "Keras",
            "optima_keras.backend:KerasBackend",
            "Keras 3 models on TensorFlow (run-config build_model, or the built-in MLP)",
            requires=("keras", "tensorflow"),
        )
    ]
