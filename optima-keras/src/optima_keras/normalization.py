"""The non-linear input normalisation layer of the built-in Keras MLP.

For every input variable (the last axis of the input) the layer computes, in this order,

1. ``scale * x + offset`` (the linear part of the variable's ``input_scaling`` entry),
2. the non-linearity: ``'sqrt'``, ``'log10'`` or ``'linear'`` (the identity),
3. ``(value - mean) / std`` with mean and standard deviation fitted on the training data by :meth:`adapt`.

Mean and standard deviation are non-trainable weights, so they are saved in ``.keras`` files and restored by
``keras.saving.load_model``; the scalings are part of the layer config. The class is registered with Keras as
``optima>NonLinearNormalization``: importing this module is all a loader needs to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

#: The non-linearities the layer understands.
SCALING_TYPES: tuple[str, ...] = ("linear", "sqrt", "log10")


def _normalize_scaling(entry: Any, position: int) -> list[Any]:
    """Accept ``(type, (scale, offset))`` (the InputHandler form) or ``(type, scale, offset)``; return the latter."""
    if len(entry) == 2:
        scale_type, (scale, offset) = entry
    elif len(entry) == 3:
        scale_type, scale, offset = entry
    else:
        raise ValueError(
            f"scaling of input {position} must be (type, (scale, offset)) or (type, scale, offset), got {entry!r}"
        )
    if scale_type not in SCALING_TYPES:
        raise ValueError(
            f"unknown non-linear scaling {scale_type!r} for input {position}; "
            f"NonLinearNormalization supports {', '.join(repr(t) for t in SCALING_TYPES)}"
        )
    return [str(scale_type), float(scale), float(offset)]


@keras.saving.register_keras_serializable(package="optima")
class NonLinearNormalization(keras.layers.Layer):
    """Per-variable ``scale * x + offset``, then sqrt/log10/identity, then standardisation to mean 0 and std 1.

    Args:
        scalings: one entry per input variable (last input axis), each ``(type, (scale, offset))`` or
            ``(type, scale, offset)`` with ``type`` one of :data:`SCALING_TYPES`. ``None`` means the identity for
            every variable.
        variable_names: optional names of the variables, only used in error messages.
        **kwargs: passed to :class:`keras.layers.Layer` (``name``, ``dtype``, ...).

    Until :meth:`adapt` is called the standardisation is the identity (mean 0, std 1).
    """

    def __init__(
        self,
        scalings: Sequence[Any] | None = None,
        variable_names: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.scalings = None if scalings is None else [_normalize_scaling(s, i) for i, s in enumerate(scalings)]
        self.variable_names = None if variable_names is None else [str(v) for v in variable_names]
        if (
            self.variable_names is not None
            and self.scalings is not None
            and len(self.variable_names) != len(self.scalings)
        ):
            raise ValueError(f"got {len(self.variable_names)} variable names but {len(self.scalings)} scalings")
        self.supports_masking = True

    # -- construction -------------------------------------------------------------------------------------------

    def build(self, input_shape: Any) -> None:
        num_features = input_shape[-1]
        if num_features is None:
            raise ValueError("NonLinearNormalization needs a known size of the last input axis")
        if self.scalings is not None and len(self.scalings) != num_features:
            raise ValueError(
                f"NonLinearNormalization has {len(self.scalings)} scalings but the input has {num_features} "
                "variables on its last axis"
            )
        scalings = self.scalings or [["linear", 1.0, 0.0]] * num_features
        self._scale = np.array([s[1] for s in scalings], dtype=np.float32)
        self._offset = np.array([s[2] for s in scalings], dtype=np.float32)
        self._sqrt_mask = np.array([s[0] == "sqrt" for s in scalings])
        self._log10_mask = np.array([s[0] == "log10" for s in scalings])
        self.mean = self.add_weight(name="mean", shape=(num_features,), initializer="zeros", trainable=False)
        self.std = self.add_weight(name="std", shape=(num_features,), initializer="ones", trainable=False)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"scalings": self.scalings, "variable_names": self.variable_names})
        return config

    # -- forward pass -------------------------------------------------------------------------------------------

    def call(self, inputs: Any) -> Any:
        x = ops.cast(inputs, self.compute_dtype)
        x = x * ops.convert_to_tensor(self._scale, self.compute_dtype) + ops.convert_to_tensor(
            self._offset, self.compute_dtype
        )
        # The non-linearity is applied only where its mask is set; the other entries are fed a harmless 1 so that
        # sqrt/log10 of e.g. negative 'linear' variables never produce NaN (which would also poison gradients).
        if self._sqrt_mask.any():
            mask = ops.convert_to_tensor(self._sqrt_mask)
            x = ops.where(mask, ops.sqrt(ops.where(mask, x, ops.ones_like(x))), x)
        if self._log10_mask.any():
            mask = ops.convert_to_tensor(self._log10_mask)
            x = ops.where(mask, ops.log10(ops.where(mask, x, ops.ones_like(x))), x)
        return (x - ops.cast(self.mean, self.compute_dtype)) / ops.cast(self.std, self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    # -- fitting --------------------------------------------------------------------------------------------------

    def transform_numpy(self, x: Any) -> np.ndarray:
        """Apply steps 1 and 2 (linear part and non-linearity, no standardisation) in float64 numpy."""
        x = np.asarray(x, dtype=np.float64)
        x = x * self._scale.astype(np.float64) + self._offset.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.where(self._sqrt_mask, np.sqrt(np.where(self._sqrt_mask, x, 1.0)), x)
            x = np.where(self._log10_mask, np.log10(np.where(self._log10_mask, x, 1.0)), x)
        return x

    def adapt(self, data: Any) -> None:
        """Fit mean and standard deviation of the scaled inputs (unweighted, every event counts once).

        Args:
            data: an array of inputs, a ``tf.data.Dataset`` or any iterable of batches. A batch is either the inputs
                themselves or a tuple/list whose first element is the inputs (``(x, y)`` or ``(x, y, w)``).

        Raises:
            ValueError: if there is no data, or if a variable has non-finite values after its non-linear scaling
                (e.g. ``log10`` of values <= 0); silently training on NaN would spoil every trial.

        Variables whose scaled values are all identical get std 1 (they are only shifted to 0).
        """
        batches: Iterable[Any]
        if hasattr(data, "shape") and not hasattr(data, "element_spec"):
            batches = [data]
        else:
            batches = data
        count = 0
        mean: np.ndarray | None = None
        m2: np.ndarray | None = None
        low: np.ndarray | None = None
        high: np.ndarray | None = None
        for batch in batches:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            x = np.asarray(x)
            if not self.built:
                self.build(x.shape)
            values = self.transform_numpy(x).reshape(-1, x.shape[-1])
            if values.shape[0] == 0:
                continue
            self._check_finite(values)
            # Chan et al.'s pairwise update of mean and sum of squared deviations: stable for large offsets.
            n_b = values.shape[0]
            mean_b = values.mean(axis=0)
            m2_b = ((values - mean_b) ** 2).sum(axis=0)
            if mean is None or m2 is None or low is None or high is None:
                count, mean, m2 = n_b, mean_b, m2_b
                low, high = values.min(axis=0), values.max(axis=0)
            else:
                delta = mean_b - mean
                total = count + n_b
                mean = mean + delta * n_b / total
                m2 = m2 + m2_b + delta**2 * count * n_b / total
                count = total
                low, high = np.minimum(low, values.min(axis=0)), np.maximum(high, values.max(axis=0))
        if mean is None or m2 is None or low is None or high is None:
            raise ValueError("NonLinearNormalization.adapt got no data")
        std = np.sqrt(m2 / count)
        std = np.where((high == low) | (std == 0), 1.0, std)
        self.mean.assign(mean.astype(np.float32))
        self.std.assign(std.astype(np.float32))

    def _check_finite(self, values: np.ndarray) -> None:
        bad = ~np.isfinite(values)
        if not bad.any():
            return
        column = int(np.argmax(bad.any(axis=0)))
        name = self.variable_names[column] if self.variable_names else f"#{column}"
        scale_type = self.scalings[column][0] if self.scalings else "linear"
        raise ValueError(
            f"input variable {name!r} has {int(bad[:, column].sum())} non-finite values after its "
            f"'{scale_type}' scaling (sqrt of negative or log10 of non-positive values, or NaN/inf in the "
            "inputs); change its input_scaling (e.g. an offset) or clean the inputs"
        )
