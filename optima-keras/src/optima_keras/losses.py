"""The loss of the built-in Keras compile: a cross-entropy or KL divergence with per-class weights.

Registered with Keras as ``optima>ClassWeightedLoss`` so that compiled models save to ``.keras`` and load back.

Class numbering follows the columns of the target: with one-hot targets of ``k`` columns, class ``N`` is column
``N``. With a single target column (binary classification with a sigmoid output) class 0 is the positive class
(target 1, e.g. "Signal", the first of ``evaluation_class_labels``) and class 1 the negative one (target 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

#: The ``loss_function`` hyperparameter values and the Keras functions computing them per event.
LOSS_FUNCTIONS: dict[str, Any] = {
    "BinaryCrossentropy": keras.losses.binary_crossentropy,
    "CategoricalCrossentropy": keras.losses.categorical_crossentropy,
    "KLDivergence": keras.losses.kl_divergence,
}


def check_loss_function(loss_function: str) -> None:
    """Raise ``ValueError`` naming ``loss_function`` and the allowed values unless it is one of them."""
    if loss_function not in LOSS_FUNCTIONS:
        allowed = ", ".join(repr(name) for name in LOSS_FUNCTIONS)
        raise ValueError(f"unknown loss_function {loss_function!r}; the built-in compile_model supports {allowed}")


@keras.saving.register_keras_serializable(package="optima")
class ClassWeightedLoss(keras.losses.Loss):
    """Per-event loss ``class_weights[class of the event] * loss(y_true, y_pred)``, reduced like any Keras loss.

    Args:
        loss_function: ``'BinaryCrossentropy'``, ``'CategoricalCrossentropy'`` or ``'KLDivergence'``.
        class_weights: one weight per class (see the module docstring for the numbering); ``None``: all 1.
        **kwargs: ``name``, ``reduction`` and ``dtype`` of :class:`keras.losses.Loss`.

    For a single target column the categorical cross-entropy and the KL divergence are computed on the two-class
    distributions ``(y, 1 - y)`` and ``(p, 1 - p)``; Keras' own versions would see a one-column distribution and
    return 0 (cross-entropy) or ignore every negative event (KL divergence).
    """

    def __init__(
        self,
        loss_function: str = "BinaryCrossentropy",
        class_weights: Sequence[float] | None = None,
        **kwargs: Any,
    ) -> None:
        check_loss_function(loss_function)
        kwargs.setdefault("name", f"weighted_{loss_function}")
        super().__init__(**kwargs)
        self.loss_function = loss_function
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        if len(y_true.shape) == len(y_pred.shape) - 1:
            y_true = ops.expand_dims(y_true, -1)
        single_column = y_pred.shape[-1] == 1
        if single_column and self.loss_function != "BinaryCrossentropy":
            y_true = ops.concatenate([y_true, 1.0 - y_true], axis=-1)
            y_pred = ops.concatenate([y_pred, 1.0 - y_pred], axis=-1)
        values = LOSS_FUNCTIONS[self.loss_function](y_true, y_pred)
        if self.class_weights is None:
            return values
        num_classes = 2 if y_true.shape[-1] == 1 else y_true.shape[-1]
        if len(self.class_weights) != num_classes:
            raise ValueError(f"{len(self.class_weights)} class weights given for targets of {num_classes} classes")
        weights = ops.convert_to_tensor(self.class_weights, dtype=y_pred.dtype)
        if y_true.shape[-1] == 1:
            event_weights = y_true[..., 0] * weights[0] + (1.0 - y_true[..., 0]) * weights[1]
        else:
            event_weights = ops.sum(y_true * weights, axis=-1)
        return values * event_weights

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"loss_function": self.loss_function, "class_weights": self.class_weights})
        return config
