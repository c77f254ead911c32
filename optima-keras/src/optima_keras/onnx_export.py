"""ONNX export of Keras models (the backend's ``onnx_exporter``): Keras 3's ``model.export(format="onnx")``.

With the TensorFlow backend Keras converts through tf2onnx. The built-in MLP's ``NonLinearNormalization`` layer
(scaling and standardisation) is part of the model, so the graph takes the raw inputs. The input is named
``inputs`` by the signature, the output is renamed ``outputs``; the batch axis is dynamic.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.deploy.bundle import INPUT_NAME, OUTPUT_NAME

#: The packages the export needs besides Keras and TensorFlow.
PACKAGES = ("onnx", "tf2onnx")


def missing() -> list[str]:
    """The exporter packages that are not installed."""
    return [name for name in PACKAGES if importlib.util.find_spec(name) is None]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def rename_output(path: Path, new_name: str) -> None:
    """Rename the graph's only output tensor to ``new_name`` (tf2onnx names it after the TensorFlow op)."""
    import onnx

    model = onnx.load(str(path))
    if len(model.graph.output) != 1:
        raise ValueError(f"the model has {len(model.graph.output)} outputs; the ONNX bundle supports one output")
    old = model.graph.output[0].name
    for node in model.graph.node:
        node.output[:] = [new_name if name == old else name for name in node.output]
        node.input[:] = [new_name if name == old else name for name in node.input]
    model.graph.output[0].name = new_name
    onnx.save(model, str(path))


def export(model: Any, path: Path, example: np.ndarray, opset: int, check: Callable[[Path], None]) -> str:
    """Write ``model`` as ONNX to ``path`` (input ``inputs`` [batch, variables], output ``outputs``).

    ``example``: a few raw input rows, used to call the model once (Keras exports only models that were called);
    ``check(path)`` raises when the written graph does not reproduce the model.
    """
    import tensorflow as tf

    example = np.ascontiguousarray(example, dtype=np.float32)
    model(example, training=False)
    signature = [tf.TensorSpec((None, *example.shape[1:]), tf.float32, name=INPUT_NAME)]
    with _quiet():
        model.export(str(path), format="onnx", verbose=False, input_signature=signature, opset_version=opset)
    rename_output(path, OUTPUT_NAME)
    check(path)
    return "keras.export (tf2onnx)"
