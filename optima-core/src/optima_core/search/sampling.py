"""Numeric helpers shared by the Optuna and Tune translations: step grids, truncated-normal quantiles, snapping.

A range with a ``step`` allows ``lower + k * step`` for ``k = 0 .. n`` where ``lower + n * step <= upper`` (Optuna's
convention; without bounds, multiples of ``step``). Grid values are computed with :class:`decimal.Decimal` from the
shortest ``repr`` of the numbers, so ``0.1 + 3 * 0.1`` comes out as ``0.4`` and not ``0.4000000000000001``.
"""

from __future__ import annotations

import math
from decimal import Decimal

#: Quantile range used for normal sampling: ``(EPSILON, 1 - EPSILON)`` reaches about ±6 standard deviations.
EPSILON = 1e-9


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def grid_steps(lower: float, upper: float, step: float) -> int:
    """The largest ``n`` with ``lower + n * step <= upper``."""
    return max(0, int((_decimal(upper) - _decimal(lower)) // _decimal(step)))


def grid_value(lower: float, index: int, step: float, integer: bool) -> int | float:
    """``lower + index * step``, an ``int`` for integer ranges."""
    if integer:
        return int(lower) + index * int(step)
    return float(_decimal(lower) + index * _decimal(step))


def grid_upper(lower: float, upper: float, step: float, integer: bool) -> int | float:
    """The last grid value that is ``<= upper`` (what Optuna would otherwise adjust to, with a warning)."""
    return grid_value(lower, grid_steps(lower, upper, step), step, integer)


def snap(
    value: float, lower: float | None, upper: float | None, step: float | None, integer: bool = False
) -> int | float:
    """``value`` moved to the nearest allowed value: clipped into ``[lower, upper]`` and onto the step grid."""
    if step is not None:
        if lower is not None:
            n = grid_steps(lower, upper, step) if upper is not None else None
            index = max(0, round(float((value - lower) / step)))
            if n is not None:
                index = min(index, n)
            return grid_value(lower, index, step, integer)
        value = float(round(float(value / step)) * _decimal(step))
    if lower is not None:
        value = max(value, lower)
    if upper is not None:
        value = min(value, upper)
    return round(float(value)) if integer else float(value)


def truncated_normal(quantile: float, mean: float, std: float, lower: float | None, upper: float | None) -> float:
    """The value at ``quantile`` (in (0, 1)) of a normal distribution truncated to ``[lower, upper]`` (open if None)."""
    from scipy.stats import truncnorm

    a = -math.inf if lower is None else (lower - mean) / std
    b = math.inf if upper is None else (upper - mean) / std
    value = float(truncnorm.ppf(min(max(quantile, EPSILON), 1.0 - EPSILON), a, b, loc=mean, scale=std))
    if not math.isfinite(value):  # not seen with scipy 1.17, even 10^6 standard deviations out; be safe anyway
        value = mean
    if lower is not None:
        value = max(value, lower)
    if upper is not None:
        value = min(value, upper)
    return value


def from_fraction(
    fraction: float, lower: float, upper: float, *, integer: bool, log: bool, step: float | None
) -> int | float:
    """Map ``fraction`` in [0, 1] uniformly (or log-uniformly) onto the range, respecting the step grid."""
    fraction = min(max(fraction, 0.0), 1.0)
    if log:
        if integer:  # log-uniform over [lower - 0.5, upper + 0.5], then rounded, as Optuna does
            low, high = math.log(lower - 0.5), math.log(upper + 0.5)
            return int(min(max(round(math.exp(low + fraction * (high - low))), lower), upper))
        low, high = math.log(lower), math.log(upper)
        return min(max(math.exp(low + fraction * (high - low)), lower), upper)
    if step is not None:
        n = grid_steps(lower, upper, step)
        return grid_value(lower, min(int(fraction * (n + 1)), n), step, integer)
    return min(lower + fraction * (upper - lower), upper)
