"""Small value checks used to validate run-config parameters.

A check takes a value and returns ``None`` when it is acceptable, or a short text saying what was expected
("an integer >= 1"). The validator turns that into a message naming the parameter and the value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], "str | None"]


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_integral(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "True or False"


def string(value: Any) -> str | None:
    return None if isinstance(value, str) else "a string"


def integer(minimum: int | None = None, maximum: int | None = None) -> Check:
    """An int (not a bool) within the inclusive bounds."""
    text = "an integer" + _bounds_text(minimum, maximum, "", "")

    def check(value: Any) -> str | None:
        if not _is_integral(value):
            return text
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            return text
        return None

    return check


def number(
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    allow_inf: bool = False,
) -> Check:
    """A real number (int or float, not a bool) within the bounds; NaN is never accepted."""
    text = "a number" + _bounds_text(
        minimum, maximum, "" if min_inclusive else "exclusive", "" if max_inclusive else "exclusive"
    )
    if allow_inf:
        text += " (or np.inf)"

    def check(value: Any) -> str | None:
        if not _is_real(value) or math.isnan(value):
            return text
        if math.isinf(value):
            return None if allow_inf and value > 0 else text
        if minimum is not None and (value < minimum or (not min_inclusive and value == minimum)):
            return text
        if maximum is not None and (value > maximum or (not max_inclusive and value == maximum)):
            return text
        return None

    return check


def _bounds_text(minimum: Any, maximum: Any, min_note: str, max_note: str) -> str:
    if minimum is not None and maximum is not None:
        lo = f"{minimum} ({min_note})" if min_note else str(minimum)
        hi = f"{maximum} ({max_note})" if max_note else str(maximum)
        return f" between {lo} and {hi}"
    if minimum is not None:
        return f" > {minimum}" if min_note else f" >= {minimum}"
    if maximum is not None:
        return f" < {maximum}" if max_note else f" <= {maximum}"
    return ""


def one_of(*choices: str) -> Check:
    text = "one of " + ", ".join(repr(c) for c in choices)

    def check(value: Any) -> str | None:
        return None if isinstance(value, str) and value in choices else text

    return check


def optional(inner: Check) -> Check:
    def check(value: Any) -> str | None:
        if value is None:
            return None
        problem = inner(value)
        return None if problem is None else f"{problem}, or None"

    return check


def any_of(*checks: Check, text: str) -> Check:
    def check(value: Any) -> str | None:
        return None if any(c(value) is None for c in checks) else text

    return check


def sequence_of(item: Check, text: str, *, min_length: int = 0) -> Check:
    """A list or tuple whose items all pass ``item``."""

    def check(value: Any) -> str | None:
        if not isinstance(value, (list, tuple)) or len(value) < min_length:
            return text
        return None if all(item(v) is None for v in value) else text

    return check


def is_callable_pair(value: Any) -> bool:
    """``(names_tuple, callable)``: the shape of conditional bounds/values and of ``only``."""
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], (tuple, list))
        and all(isinstance(n, str) for n in value[0])
        and callable(value[1])
    )
