"""The built-in conversion of one dataset into a batched ``tf.data.Dataset`` for Keras.

The dataset is materialised in memory. Inputs, targets and weights are cast to float32: pandas and numpy default to
float64, and a float64 weight meeting a float32 loss inside Keras is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from optima_keras.plugin import is_keras_run


def _as_array(column: Any) -> np.ndarray:
    """A column as one numpy array; object columns holding one array per event (pandas, Ray) are stacked."""
    if hasattr(column, "to_numpy"):
        column = column.to_numpy()
    array = np.asarray(column)
    if array.dtype == object:
        array = np.stack([np.asarray(value) for value in array])
    return array


def dataset_columns(data: Any) -> dict[str, np.ndarray]:
    """``{'Input': ..., 'Target': ..., 'Weight': ...}`` as numpy arrays (``Weight`` only if present).

    ``data`` may be a mapping of columns (dict of arrays, pandas DataFrame, ...) or an object with a ``to_pandas()``
    (e.g. a Ray Dataset) or a ``take_all()`` returning one mapping per event.
    """
    if not (hasattr(data, "keys") and hasattr(data, "__getitem__")):
        if hasattr(data, "to_pandas"):
            data = data.to_pandas()
        elif hasattr(data, "take_all"):
            rows = data.take_all()
            data = {key: [row[key] for row in rows] for key in (rows[0].keys() if rows else ())}
        else:
            raise TypeError(
                f"cannot read the columns of {type(data).__name__}: expected a mapping of columns 'Input', 'Target' "
                "(and optionally 'Weight'), or an object with to_pandas() or take_all()"
            )
    keys = list(data.keys())
    missing = [key for key in ("Input", "Target") if key not in keys]
    if missing:
        raise KeyError(f"the dataset has no column {', '.join(missing)}; found {keys}")
    return {key: _as_array(data[key]) for key in ("Input", "Target", "Weight") if key in keys}


def to_tensorflow_dataset(data: Any, batch_size: int) -> tf.data.Dataset:
    """Batched, prefetched ``tf.data.Dataset`` of ``(inputs, targets)`` or ``(inputs, targets, weights)``, float32.

    One-dimensional targets become one column ``(events, 1)`` so that the target spec says "one output".
    The events keep their order (nothing is shuffled).
    """
    columns = dataset_columns(data)
    inputs = columns["Input"].astype(np.float32)
    targets = columns["Target"].astype(np.float32)
    if targets.ndim == 1:
        targets = targets[:, None]
    tensors: tuple[np.ndarray, ...] = (inputs, targets)
    if "Weight" in columns:
        tensors += (columns["Weight"].astype(np.float32).reshape(len(inputs)),)
    if any(len(t) != len(inputs) for t in tensors):
        raise ValueError(f"columns of different lengths: {[len(t) for t in tensors]}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    dataset = tf.data.Dataset.from_tensor_slices(tensors)
    return dataset.batch(int(batch_size)).prefetch(tf.data.AUTOTUNE)


def build_tensorflow_dataset(
    ray_dataset: Any, input_handler: Any, run_config: Any, model_config: Mapping[str, Any]
) -> tf.data.Dataset | None:
    """Hook ``build_tensorflow_dataset``: the built-in converter (see :func:`to_tensorflow_dataset`).

    Args:
        ray_dataset: the dataset with columns ``Input``, ``Target`` and optionally ``Weight``
            (see :func:`dataset_columns` for the accepted types).
        input_handler: unused; the inputs are expected in model order already.
        run_config: only ``model_type`` is read: ``None`` (not mine) unless it is ``'Keras'``.
        model_config: hyperparameters; ``batch_size`` is required.
    """
    if not is_keras_run(run_config):
        return None
    if model_config.get("batch_size") is None:
        raise ValueError("model_config has no 'batch_size'; it must always be part of the search space")
    return to_tensorflow_dataset(ray_dataset, int(model_config["batch_size"]))
