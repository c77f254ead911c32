"""The non-linear input normalisation of the built-in Lightning MLP (the counterpart of the Keras built-in's layer).

Each input variable ``x`` becomes ``scale * x + offset``, then ``sqrt``, ``log10`` or the identity is applied (from the
InputHandler's ``get_nonlinear_scaling()``), and finally the result is standardised with the mean and standard
deviation fitted on the training data. Every parameter is a registered buffer, so it is saved in checkpoints and moves
with the model to its device.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

#: Supported non-linear scalings and their codes in the ``scale_type`` buffer.
SCALE_TYPES: dict[str, int] = {"linear": 0, "sqrt": 1, "log10": 2}


def _lookup(scalings: Mapping[Any, Any], variable: Any) -> Any:
    key = tuple(variable) if isinstance(variable, list) else variable  # index tuples may come back as lists
    return scalings.get(key, ("linear", (1.0, 0.0)))


class NonLinearNormalization(nn.Module):
    """Per-variable ``scale * x + offset`` -> sqrt / log10 / identity -> standardisation, for ``[batch, n]`` inputs."""

    scale: torch.Tensor
    offset: torch.Tensor
    scale_type: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, num_inputs: int) -> None:
        super().__init__()
        self.register_buffer("scale", torch.ones(num_inputs))
        self.register_buffer("offset", torch.zeros(num_inputs))
        self.register_buffer("scale_type", torch.zeros(num_inputs, dtype=torch.long))
        self.register_buffer("mean", torch.zeros(num_inputs))
        self.register_buffer("std", torch.ones(num_inputs))

    @torch.no_grad()
    def set_scaling(self, input_vars: Sequence[Any], scalings: Mapping[Any, Any]) -> None:
        """Take ``(scale_type, (scale, offset))`` of each of ``input_vars`` from ``scalings`` (missing: identity)."""
        if len(input_vars) != self.scale.numel():
            raise ValueError(f"{len(input_vars)} input variables for a normalisation of {self.scale.numel()} inputs")
        for index, variable in enumerate(input_vars):
            scale_type, (scale, offset) = _lookup(scalings, variable)
            if scale_type not in SCALE_TYPES:
                raise ValueError(
                    f"unknown non-linear scaling {scale_type!r} of input variable {variable!r}; "
                    f"allowed: {', '.join(SCALE_TYPES)}"
                )
            self.scale_type[index] = SCALE_TYPES[scale_type]
            self.scale[index] = float(scale)
            self.offset[index] = float(offset)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The non-linear part only: ``scale * x + offset``, then sqrt / log10 / identity per variable."""
        x = x * self.scale + self.offset
        use_sqrt = self.scale_type == SCALE_TYPES["sqrt"]
        use_log = self.scale_type == SCALE_TYPES["log10"]
        # Feed the unused branch a harmless 1 so that its gradient cannot turn into NaN through torch.where.
        x = torch.where(use_sqrt, torch.sqrt(torch.where(use_sqrt, x, torch.ones_like(x))), x)
        return torch.where(use_log, torch.log10(torch.where(use_log, x, torch.ones_like(x))), x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised inputs: the non-linear transformation, then zero mean and unit variance (training data)."""
        return (self.transform(x) - self.mean) / self.std

    @torch.no_grad()
    def fit(self, inputs: Iterable[torch.Tensor], input_vars: Sequence[Any] | None = None) -> None:
        """Fit mean and standard deviation (unweighted, population std; 0 -> 1) of the transformed ``inputs`` batches.

        Batches are merged in float64 with Chan's parallel-variance update, so the result does not depend on the
        batch size. ``ValueError`` if a transformed value is not finite (e.g. log10 of a non-positive value) or if
        there are no inputs at all.
        """
        count = 0
        mean = torch.zeros(self.mean.shape, dtype=torch.float64)
        m2 = torch.zeros(self.mean.shape, dtype=torch.float64)
        for batch in inputs:
            values = self.transform(batch.to(self.scale.device, self.scale.dtype)).to("cpu", torch.float64)
            bad = ~torch.isfinite(values).all(dim=0)
            if bad.any():
                names = [input_vars[i] if input_vars is not None else i for i in bad.nonzero().flatten().tolist()]
                raise ValueError(
                    f"the non-linear scaling gives non-finite values on the training data for input variable(s) "
                    f"{names}; check input_scaling (sqrt needs scale*x+offset >= 0, log10 needs > 0)"
                )
            n = values.shape[0]
            if n == 0:
                continue
            batch_mean = values.mean(dim=0)
            batch_m2 = ((values - batch_mean) ** 2).sum(dim=0)
            delta = batch_mean - mean
            total = count + n
            mean = mean + delta * (n / total)
            m2 = m2 + batch_m2 + delta**2 * (count * n / total)
            count = total
        if count == 0:
            raise ValueError("cannot fit the input normalisation: the training data is empty")
        std = torch.sqrt(m2 / count)
        std[std == 0] = 1.0
        self.mean.copy_(mean.to(self.mean.dtype))
        self.std.copy_(std.to(self.std.dtype))
