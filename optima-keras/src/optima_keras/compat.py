"""The built-in Keras model functions with the original's signatures (``OPTIMA.keras.model``, see :mod:`OPTIMA`).

The original's ``build_model`` takes a ``seed``, and its ``compile_model``/``update_model`` default every argument
after ``model_config``; these adapters accept both forms and call :mod:`optima_keras.models` and
:mod:`optima_keras.compile`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optima_keras import compile as compiling
from optima_keras import models


def build_model(model_config: Mapping[str, Any], input_handler: Any, train_data: Any, seed: int | None = None) -> Any:
    """The built-in MLP, uncompiled; ``seed`` seeds Keras (weights, dropout) first when given."""
    if seed is not None:
        import keras

        keras.utils.set_random_seed(int(seed))
    return models.build_model(model_config, input_handler=input_handler, train_data=train_data)


def compile_model(
    model: Any,
    model_config: Mapping[str, Any],
    metrics: list[Any] | None = None,
    weighted_metrics: list[Any] | None = None,
    input_handler: Any = None,
    train_data: Any = None,
    first_compile: bool = True,
) -> Any:
    """Compile ``model`` with Adam and the configured loss (see :func:`optima_keras.compile.compile_model`)."""
    return compiling.compile_model(
        model,
        model_config,
        metrics=metrics,
        weighted_metrics=weighted_metrics,
        input_handler=input_handler,
        train_data=train_data,
        first_compile=first_compile,
    )


def update_model(model: Any, model_config: Mapping[str, Any], input_handler: Any = None, train_data: Any = None) -> Any:
    """Apply new ``l1_lambda``, ``l2_lambda`` and ``dropout`` to a built-in MLP (compile it again afterwards)."""
    return models.update_model(model, model_config, input_handler=input_handler, train_data=train_data)
