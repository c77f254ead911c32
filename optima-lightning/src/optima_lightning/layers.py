"""Activations and weight initialisers of the built-in Lightning MLP, chosen by their Keras names.

Both follow Keras rather than torch conventions so that the same hyperparameter values give the same networks with
either backend: ``leaky_relu`` has Keras' negative slope 0.2, and the ``*_normal`` initialisers draw from a normal
distribution truncated at two standard deviations, with the standard deviation corrected for the truncation as Keras'
``VarianceScaling`` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from optima_lightning.hyperparameters import ACTIVATIONS, INITIALIZERS

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "swish": nn.SiLU,
    "silu": nn.SiLU,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": lambda: nn.LeakyReLU(negative_slope=0.2),
    "softplus": nn.Softplus,
}

# Keras VarianceScaling arguments (scale, mode, distribution) of each fan-based initialiser.
_VARIANCE_SCALING: dict[str, tuple[float, str, str]] = {
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "he_normal": (2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "truncated_normal"),
}

# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it restores the requested variance.
_TRUNCATED_NORMAL_STD = 0.87962566103423978


def activation(name: str) -> nn.Module:
    """A new activation module for the Keras activation ``name``; ``ValueError`` for an unknown name."""
    if name not in _ACTIVATIONS:
        raise ValueError(
            f"unknown activation {name!r} for the built-in Lightning MLP; allowed: {', '.join(ACTIVATIONS)}"
        )
    return _ACTIVATIONS[name]()


def _fans(tensor: torch.Tensor) -> tuple[int, int]:
    # torch.nn.Linear stores weights as [out, in]; Keras treats a 1-d tensor (a bias) as fan_in = fan_out = size.
    if tensor.dim() == 1:
        return tensor.shape[0], tensor.shape[0]
    return tensor.shape[1], tensor.shape[0]


@torch.no_grad()
def initialize_(tensor: torch.Tensor, name: str) -> torch.Tensor:
    """Fill ``tensor`` in place with the Keras initialiser ``name`` (``'auto'`` must be resolved before)."""
    if name == "zeros":
        return tensor.zero_()
    if name == "ones":
        return tensor.fill_(1.0)
    if name not in _VARIANCE_SCALING:
        allowed = ", ".join(n for n in INITIALIZERS if n != "auto")
        raise ValueError(f"unknown initializer {name!r} for the built-in Lightning MLP; allowed: {allowed}")
    scale, mode, distribution = _VARIANCE_SCALING[name]
    fan_in, fan_out = _fans(tensor)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    variance = scale / max(1.0, fan)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * variance)
        return tensor.uniform_(-limit, limit)
    std = math.sqrt(variance) / _TRUNCATED_NORMAL_STD
    return nn.init.trunc_normal_(tensor, mean=0.0, std=std, a=-2.0 * std, b=2.0 * std)
