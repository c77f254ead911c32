"""ONNX export of Lightning models (the backend's ``onnx_exporter``): raw inputs -> ``predict_step`` -> outputs.

The exported graph is the model's ``predict_step`` on a batch ``(inputs, zero targets, unit weights)``, as OPTIMA's
predictions call it, so the built-in MLP's non-linear scaling and normalisation (buffers of the model) are part of
the graph. Two exporters of torch.onnx, both working offline with torch 2.13 on a CPU, are tried in turn until one
gives a graph that passes ``check`` (the core compares it with the model's predictions): the TorchScript exporter
(``dynamo=False``, about 0.4 s for a 3 x 64 MLP), then the ``torch.export``-based one with onnxscript (10 to 15 s
for the first model of a process, 2 to 5 s for the next; it captures models the tracer gets wrong, e.g. NumPy
calls in ``forward``). The batch axis is dynamic.
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

#: The packages the export needs besides torch (onnxscript, for the second exporter, comes with the extra too).
PACKAGES = ("onnx",)


def missing() -> list[str]:
    """The exporter packages that are not installed."""
    return [name for name in PACKAGES if importlib.util.find_spec(name) is None]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """torch.onnx's progress lines, its notes on torchvision and deprecation warnings left off the run's console."""
    loggers = [logging.getLogger(name) for name in ("torch", "onnxscript", "onnx_ir")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:450]


def _wrapper(model: Any, sample: Any) -> Any:
    """A module whose ``forward(inputs)`` is ``model.predict_step`` on a full batch, as OPTIMA predicts."""
    import torch

    class Predict(torch.nn.Module):
        def __init__(self, wrapped: Any, num_outputs: int) -> None:
            super().__init__()
            self.wrapped = wrapped
            self.num_outputs = num_outputs

        def forward(self, inputs: torch.Tensor) -> torch.Tensor:
            batch = (inputs, inputs.new_zeros((inputs.shape[0], self.num_outputs)), inputs.new_ones(inputs.shape[0]))
            return self.wrapped.predict_step(batch, 0)

    with torch.no_grad():
        outputs = model.predict_step((sample, torch.zeros(len(sample), 1), torch.ones(len(sample))), 0)
    return Predict(model, int(outputs.shape[-1]) if outputs.dim() > 1 else 1).eval()


def _export(wrapper: Any, sample: Any, path: Path, opset: int, **exporter_options: Any) -> None:
    import torch

    torch.onnx.export(
        wrapper,
        (sample,),
        str(path),
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        opset_version=opset,
        **exporter_options,
    )


def _torchscript(wrapper: Any, sample: Any, path: Path, opset: int) -> None:
    dynamic_axes = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}
    _export(wrapper, sample, path, opset, dynamo=False, dynamic_axes=dynamic_axes)


def _dynamo(wrapper: Any, sample: Any, path: Path, opset: int) -> None:
    import torch

    batch = ({0: torch.export.Dim("batch")},)
    _export(wrapper, sample, path, opset, dynamo=True, dynamic_shapes=batch, external_data=False, verbose=False)


EXPORTERS: tuple[tuple[str, Callable[[Any, Any, Path, int], None]], ...] = (
    ("torch.onnx (TorchScript)", _torchscript),
    ("torch.onnx (dynamo)", _dynamo),
)


def export(model: Any, path: Path, example: np.ndarray, opset: int, check: Callable[[Path], None]) -> str:
    """Write ``model`` as ONNX to ``path`` (input ``inputs`` [batch, variables], output ``outputs``).

    ``example``: a few raw input rows (at least two) to trace with; ``check(path)`` raises when the written graph
    does not reproduce the model. Returns the exporter used; raises ``RuntimeError`` with the reason of each
    exporter when none gives a graph that passes the check.
    """
    import torch

    model = model.to("cpu").eval()
    sample = torch.from_numpy(np.ascontiguousarray(example, dtype=np.float32))
    wrapper = _wrapper(model, sample)
    errors = []
    for name, exporter in EXPORTERS:
        try:
            with _quiet():
                exporter(wrapper, sample, path, opset)
            check(path)
            return name
        except Exception as error:  # noqa: BLE001 - any failure to capture the model: try the next exporter
            errors.append(f"{name}: {_first_line(error)}")
            path.unlink(missing_ok=True)
    raise RuntimeError("; ".join(errors))
