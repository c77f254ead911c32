"""The built-in InputHandler: which input variables are in use, and the non-linear scaling of each.

Variables are names (``'pt_lep1'``) or index tuples (``(1, 2)``) for structured inputs; in ``input_scaling`` an
index tuple is written as its indices joined by underscores (``'1_2'``). Every variable without an entry in
``input_scaling`` gets the identity, ``('linear', (1.0, 0.0))``: value -> scale * value + offset, then no
non-linearity.
"""

from __future__ import annotations

import copy
from typing import Any

Variable = str | tuple[int, ...]
Scaling = tuple[str, tuple[float, float]]

IDENTITY: Scaling = ("linear", (1.0, 0.0))


def scaling_key(variable: Variable) -> str:
    """The ``input_scaling`` key of a variable (index tuples become ``'1_2_3'``)."""
    return variable if isinstance(variable, str) else "_".join(str(i) for i in variable)


def parse_variable(key: str | tuple[int, ...]) -> Variable:
    """The inverse of :func:`scaling_key` for keys made of digits and underscores; names stay names."""
    if isinstance(key, str) and key and all(part.isdigit() for part in key.split("_")):
        return tuple(int(part) for part in key.split("_"))
    return key


class InputHandler:
    """Keeps track of the input variables currently used and of their scalings."""

    def __init__(self, run_config: Any) -> None:
        self._scaling_config: dict[Any, Any] = dict(getattr(run_config, "input_scaling", None) or {})
        input_vars = getattr(run_config, "input_vars", None)
        self._vars: list[Variable] | None = None
        if input_vars is not None:
            self.set_vars(list(input_vars))

    def get_vars(self) -> list[Variable] | None:
        """The variables in use, in model-input order; ``None`` until known (all variables of the file)."""
        return list(self._vars) if self._vars is not None else None

    def set_vars(self, input_vars: list[Variable]) -> None:
        """Use exactly ``input_vars`` from now on (the variable selection calls this when it drops variables)."""
        self._vars = [parse_variable(v) if isinstance(v, str) else tuple(v) for v in input_vars]

    def get_nonlinear_scaling(self) -> dict[Variable, Scaling]:
        """``{variable: (scale_type, (scale, offset))}`` for every variable in use."""
        scalings: dict[Variable, Scaling] = {}
        for variable in self._vars or []:
            entry = self._scaling_config.get(scaling_key(variable), self._scaling_config.get(variable, IDENTITY))
            scale_type, (scale, offset) = entry
            scalings[variable] = (scale_type, (float(scale), float(offset)))
        return scalings

    def copy(self) -> InputHandler:
        """An independent copy (changing its variables leaves this one alone)."""
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        return f"InputHandler(vars={self._vars!r})"
