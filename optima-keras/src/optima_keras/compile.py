"""The built-in Keras compile: Adam, a class-weighted loss, the caller's metrics; recompiles keep the training state.

It also has Keras run :data:`STEPS_PER_EXECUTION` training (and validation) steps per call of the traced step
function instead of one. For the small networks of this field each call cost more in TensorFlow's per-call
overhead than in arithmetic: 15 epochs of the built-in MLP on 12,000 events (batches of 256, one thread) took
about a quarter less time. The steps are the same, on the same batches in the same order, so the weights and every
epoch's logs are identical (a test compares them); what changes is that Keras calls the batch-level methods of
callbacks once per group of steps. A run-config with Keras ``callbacks`` therefore trains one step per call
(:func:`grouped_steps` tells the backend which models this compile grouped).
"""

from __future__ import annotations

import re
import warnings
import weakref
from collections.abc import Mapping
from typing import Any

import keras

from optima_keras.losses import ClassWeightedLoss, check_loss_function

#: Defaults of the hyperparameters :func:`compile_model` reads (``loss_weight_class_N`` defaults to 1.0).
COMPILE_DEFAULTS: dict[str, Any] = {
    "learning_rate": 1e-3,
    "Adam_beta_1": 0.9,
    "one_minus_Adam_beta_2": 1e-3,
    "Adam_epsilon": 1e-7,
    "loss_function": "BinaryCrossentropy",
}

_CLASS_WEIGHT_KEY = re.compile(r"^loss_weight_class_(\d+)$")

#: Training steps per call of the traced step function (``steps_per_execution`` of ``Model.compile``).
STEPS_PER_EXECUTION = 16
_grouped: weakref.WeakSet[Any] = weakref.WeakSet()


def grouped_steps(model: Any) -> bool:
    """Whether ``model`` was last compiled here, with :data:`STEPS_PER_EXECUTION` steps per call."""
    return model in _grouped


def _hp(model_config: Mapping[str, Any], name: str) -> Any:
    value = model_config.get(name)
    return COMPILE_DEFAULTS[name] if value is None else value


def adam_parameters(model_config: Mapping[str, Any]) -> dict[str, float]:
    """The Adam keyword arguments (``learning_rate``, ``beta_1``, ``beta_2``, ``epsilon``) for ``model_config``."""
    return {
        "learning_rate": float(_hp(model_config, "learning_rate")),
        "beta_1": float(_hp(model_config, "Adam_beta_1")),
        "beta_2": 1.0 - float(_hp(model_config, "one_minus_Adam_beta_2")),
        "epsilon": float(_hp(model_config, "Adam_epsilon")),
    }


def _num_classes(model: Any, train_data: Any) -> int | None:
    """Classes of the task: output columns of the model (or target columns of the data); 1 column means 2 classes."""
    columns = None
    outputs = getattr(model, "outputs", None)
    if outputs and len(outputs) == 1 and outputs[0].shape[-1] is not None:
        columns = int(outputs[0].shape[-1])
    else:
        spec = getattr(train_data, "element_spec", None)
        if isinstance(spec, tuple) and len(spec) >= 2 and hasattr(spec[1], "shape"):
            shape = spec[1].shape
            columns = 1 if len(shape) < 2 else shape[-1]
    if columns is None:
        return None
    return 2 if columns == 1 else columns


def class_weights(model_config: Mapping[str, Any], num_classes: int | None) -> list[float] | None:
    """``[loss_weight_class_0, loss_weight_class_1, ...]`` (missing: 1.0), or ``None`` if no class has a weight."""
    given = {
        int(match.group(1)): float(value)
        for key, value in model_config.items()
        if (match := _CLASS_WEIGHT_KEY.match(key)) and value is not None
    }
    if not given:
        return None
    if num_classes is None:
        num_classes = max(given) + 1
    too_large = sorted(f"loss_weight_class_{n}" for n in given if n >= num_classes)
    if too_large:
        raise ValueError(f"{', '.join(too_large)} given, but the model has only {num_classes} classes (0-based)")
    return [given.get(n, 1.0) for n in range(num_classes)]


def make_loss(model_config: Mapping[str, Any], num_classes: int | None) -> ClassWeightedLoss:
    """The loss selected by ``loss_function`` with the ``loss_weight_class_N`` weights."""
    loss_function = str(_hp(model_config, "loss_function"))
    check_loss_function(loss_function)
    return ClassWeightedLoss(loss_function, class_weights(model_config, num_classes))


def compile_model(
    model: keras.Model,
    model_config: Mapping[str, Any],
    metrics: list[Any] | None,
    weighted_metrics: list[Any] | None,
    input_handler: Any,
    train_data: Any,
    first_compile: bool,
) -> keras.Model:
    """Compile ``model`` with Adam, the class-weighted loss and the given metrics; return it.

    Keras runs :data:`STEPS_PER_EXECUTION` steps per call of the traced training step (see the module docstring).

    Args:
        model: the model to compile (new, or restored from a checkpoint).
        model_config: hyperparameters; read are ``learning_rate`` (1e-3), ``Adam_beta_1`` (0.9),
            ``one_minus_Adam_beta_2`` (1e-3, i.e. beta_2 = 0.999), ``Adam_epsilon`` (1e-7), ``loss_function``
            ('BinaryCrossentropy', 'CategoricalCrossentropy' or 'KLDivergence') and ``loss_weight_class_N``
            (1.0 each, see :mod:`optima_keras.losses` for the class numbering).
        metrics: initialised Keras metrics evaluated without sample weights.
        weighted_metrics: initialised Keras metrics evaluated with the sample weights of the batches.
        input_handler: unused; part of the hook signature.
        train_data: the training dataset; only used to count classes when the model's output does not tell.
        first_compile: ``True`` for a new model. ``False`` for a restored one: its Adam optimizer is kept and its
            hyperparameters are changed in place, so iterations and moments survive (needed by PBT).

    Raises:
        ValueError: for an unknown ``loss_function`` or a ``loss_weight_class_N`` beyond the number of classes.
    """
    loss = make_loss(model_config, _num_classes(model, train_data))
    parameters = adam_parameters(model_config)
    optimizer: Any = None if first_compile else getattr(model, "optimizer", None)
    # A mixed-precision model wraps its optimizer; the Adam state lives in the inner one.
    inner: Any = getattr(optimizer, "inner_optimizer", optimizer)
    if optimizer is not None and not isinstance(inner, keras.optimizers.Adam):
        warnings.warn(
            f"the restored model's optimizer is {type(inner).__name__}, not Adam: replacing it (its state is lost)",
            stacklevel=2,
        )
        optimizer = None
    if optimizer is None:
        optimizer = keras.optimizers.Adam(**parameters)
    else:
        # Adam reads beta_1, beta_2 and epsilon as Python floats when the training step is traced; compile() below
        # discards the traced functions, so the new values take effect at the next fit().
        inner.learning_rate = parameters["learning_rate"]
        inner.beta_1 = parameters["beta_1"]
        inner.beta_2 = parameters["beta_2"]
        inner.epsilon = parameters["epsilon"]
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=metrics,
        weighted_metrics=weighted_metrics,
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    _grouped.add(model)
    return model
