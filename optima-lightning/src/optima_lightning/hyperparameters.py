"""Hyperparameters of the built-in Lightning MLP: names, defaults, allowed values and which may be mutated.

They mirror the built-in Keras MLP (``build_model`` / ``compile_model`` / ``update_model`` of the reference) name for
name and default for default. This module is torch-free on purpose: the engine can read the defaults (to fix
hyperparameters missing from the search space) and the backend's descriptor can list the mutable ones for Population
Based Training without importing the framework.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Every fixed-name hyperparameter of the MLP and its default. ``units_i`` (default ``None``: use ``units``) and
#: ``loss_weight_class_N`` (default ``1.0``) are families matched by :data:`UNITS_I` and :data:`CLASS_WEIGHT`.
DEFAULTS: dict[str, Any] = {
    "num_layers": 3,
    "units": 32,
    "activation": "swish",
    "kernel_initializer": "auto",
    "bias_initializer": "auto",
    "l1_lambda": 0.0,
    "l2_lambda": 0.0,
    "dropout": 0.1,
    "learning_rate": 1e-3,
    "Adam_beta_1": 0.9,
    "one_minus_Adam_beta_2": 1e-3,
    "Adam_epsilon": 1e-7,
    "loss_function": "BinaryCrossentropy",
}

UNITS_I = re.compile(r"units_(\d+)")
CLASS_WEIGHT = re.compile(r"loss_weight_class_(\d+)")

#: Hyperparameters that can change on a trained model without touching its weights (``compile_model`` and
#: ``update_model`` of the Keras built-in); ``loss_weight_class_N`` stands for every class weight. The backend's
#: descriptor hands this list to the core, which decides what Population Based Training mutates.
MUTABLE: tuple[str, ...] = (
    "learning_rate",
    "Adam_beta_1",
    "one_minus_Adam_beta_2",
    "Adam_epsilon",
    "loss_function",
    "loss_weight_class_N",
    "l1_lambda",
    "l2_lambda",
    "dropout",
)

ACTIVATIONS: tuple[str, ...] = (
    "swish",
    "silu",
    "relu",
    "elu",
    "selu",
    "gelu",
    "tanh",
    "sigmoid",
    "leaky_relu",
    "softplus",
)
INITIALIZERS: tuple[str, ...] = (
    "auto",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "zeros",
    "ones",
)
LOSS_FUNCTIONS: tuple[str, ...] = ("BinaryCrossentropy", "CategoricalCrossentropy", "KLDivergence")


def _get(model_config: Mapping[str, Any], key: str) -> Any:
    """The value of ``key``; missing or ``None`` means the default (as in the Keras built-in)."""
    value = model_config.get(key)
    return DEFAULTS[key] if value is None else value


def _choice(model_config: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = _get(model_config, key)
    if value not in allowed:
        raise ValueError(f"unknown {key} {value!r} for the built-in Lightning MLP; allowed: {', '.join(allowed)}")
    return str(value)


def _number(
    model_config: Mapping[str, Any],
    key: str,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    value = float(_get(model_config, key))
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (above and below):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{key} must be in {interval}, got {value!r}")
    return value


@dataclass(frozen=True)
class MLPConfig:
    """The resolved hyperparameters of one MLP: defaults filled in, ``units_i`` and ``'auto'`` worked out."""

    hidden_units: tuple[int, ...]
    activation: str
    kernel_initializer: str
    bias_initializer: str
    l1_lambda: float
    l2_lambda: float
    dropout: float
    learning_rate: float
    adam_beta_1: float
    adam_beta_2: float
    adam_epsilon: float
    loss_function: str
    class_weights: tuple[tuple[int, float], ...]

    @property
    def architecture(self) -> tuple[Any, ...]:
        """What fixes the layers and their initialisation, i.e. what a mutation may not change."""
        return (self.hidden_units, self.activation, self.kernel_initializer, self.bias_initializer)

    def class_weight_vector(self, num_classes: int) -> list[float]:
        """The weight of each class ``0 .. num_classes-1`` (1.0 unless ``loss_weight_class_N`` says otherwise)."""
        weights = [1.0] * num_classes
        for index, weight in self.class_weights:
            if index >= num_classes:
                raise ValueError(
                    f"loss_weight_class_{index} is set but the targets have only {num_classes} classes "
                    f"(class indices 0..{num_classes - 1})"
                )
            weights[index] = weight
        return weights


def resolve(model_config: Mapping[str, Any]) -> MLPConfig:
    """Fill in the defaults and check every MLP hyperparameter of ``model_config``; other keys are ignored.

    A missing key or the value ``None`` means the default; ``units_i`` of layers beyond ``num_layers`` are ignored.

    Raises ``ValueError`` naming the offending key and value (and the allowed values for names).
    """
    num_layers = int(_get(model_config, "num_layers"))
    if num_layers < 0:
        raise ValueError(f"num_layers must be >= 0, got {num_layers}")
    units = _get(model_config, "units")
    hidden_units = []
    for layer in range(1, num_layers + 1):
        value = model_config.get(f"units_{layer}")
        value = int(units if value is None else value)
        if value < 1:
            raise ValueError(f"the number of units of hidden layer {layer} must be >= 1, got {value}")
        hidden_units.append(value)

    activation = _choice(model_config, "activation", ACTIVATIONS)
    kernel_initializer = _choice(model_config, "kernel_initializer", INITIALIZERS)
    bias_initializer = _choice(model_config, "bias_initializer", INITIALIZERS)
    if kernel_initializer == "auto":  # Keras' default, except the self-normalising pairing for SELU
        kernel_initializer = "lecun_normal" if activation == "selu" else "glorot_uniform"
    if bias_initializer == "auto":
        bias_initializer = "zeros"

    class_weights = []
    for key, value in model_config.items():
        match = CLASS_WEIGHT.fullmatch(str(key))
        if match is not None and value is not None:
            class_weights.append((int(match.group(1)), float(value)))

    return MLPConfig(
        hidden_units=tuple(hidden_units),
        activation=activation,
        kernel_initializer=kernel_initializer,
        bias_initializer=bias_initializer,
        l1_lambda=_number(model_config, "l1_lambda", 0.0, float("inf")),
        l2_lambda=_number(model_config, "l2_lambda", 0.0, float("inf")),
        dropout=_number(model_config, "dropout", 0.0, 1.0, high_open=True),
        learning_rate=_number(model_config, "learning_rate", 0.0, float("inf")),
        adam_beta_1=_number(model_config, "Adam_beta_1", 0.0, 1.0, high_open=True),
        adam_beta_2=1.0 - _number(model_config, "one_minus_Adam_beta_2", 0.0, 1.0, low_open=True),
        adam_epsilon=_number(model_config, "Adam_epsilon", 0.0, float("inf")),
        loss_function=_choice(model_config, "loss_function", LOSS_FUNCTIONS),
        class_weights=tuple(sorted(class_weights)),
    )
