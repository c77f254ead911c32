"""Average results over cross-validation folds, with OPTIMA's one spread convention.

The spread convention (``evaluation.txt``, ``evaluation.json`` and ``results.txt`` alike): ``mean ± std`` with the
*sample* standard deviation (``ddof=1``, an estimate of the standard deviation of the folds' distribution), or with
``use_median_for_averages`` ``median ± MAD``, the MAD scaled by 1.4826 so that it estimates the same standard
deviation for normally distributed values. A single value has spread 0.

``evaluate`` (with ``return_unfilled=True``) returns a template with one ``{}`` per value and the values. The
folds of a trial share the template; :func:`average_results` fills every placeholder with the centre and spread.
Import-light: numpy only.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

MAD_SCALE = 1.4826  # 1 / Phi^-1(3/4): MAD -> standard deviation for a normal distribution
UNCERTAINTY_DIGITS = 2


def placeholder_count(template: str) -> int:
    """How many replacement fields ``template.format`` fills."""
    return sum(1 for _, field, _, _ in string.Formatter().parse(template) if field is not None)


def format_with_spread(centre: float, spread: float) -> str:
    """``centre ± spread`` with the spread to 2 significant digits and the centre to the same decimal place.

    Very small or large numbers share a power of ten: ``(1.23 ± 0.05)e-05``. A zero spread shows the centre to 6
    significant digits; non-finite numbers are written as they are.
    """
    if not (math.isfinite(centre) and math.isfinite(spread)):
        return f"{centre:.6g} ± {spread:.2g}"
    if spread == 0:
        return f"{centre:.6g} ± 0"
    reference = abs(centre) if centre != 0 else spread
    exponent = math.floor(math.log10(reference))
    if exponent < -3 or exponent > 5:
        scale = 10.0**exponent
        return f"({format_with_spread(centre / scale, spread / scale)})e{exponent:+03d}"
    decimals = max(0, UNCERTAINTY_DIGITS - 1 - math.floor(math.log10(spread)))
    return f"{centre:.{decimals}f} ± {spread:.{decimals}f}"


def summarise(values: Sequence[Any], use_median: bool = False) -> tuple[float, float]:
    """``(mean, sample std)`` or ``(median, scaled MAD)`` of one quantity over folds (booleans count as 0/1).

    The one spread convention of OPTIMA (see the module docstring); one value has spread 0.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        raise ValueError("summarise needs at least one value")
    if use_median:
        median = float(np.median(array))
        return median, float(MAD_SCALE * np.median(np.abs(array - median)))
    return float(np.mean(array)), float(np.std(array, ddof=1)) if array.size > 1 else 0.0


def spread_name(use_median: bool) -> str:
    """How :func:`summarise` states its centre and spread, for the files it fills."""
    return "median ± scaled MAD" if use_median else "mean ± sample std (ddof=1)"


def average_results(templates_and_values: list[tuple[str, list[float]]], use_median: bool) -> str:
    """The common template filled with the fold average and spread of every value.

    Raises ``ValueError`` if there are no folds, the templates differ, or a fold's number of values does not match
    the template's placeholders.
    """
    if not templates_and_values:
        raise ValueError("average_results needs the results of at least one fold")
    template = templates_and_values[0][0]
    expected = placeholder_count(template)
    for fold, (other, values) in enumerate(templates_and_values):
        if other != template:
            first, second = template.splitlines(), other.splitlines()
            line = next(
                (i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b), min(len(first), len(second))
            )
            raise ValueError(
                f"the results template of fold {fold} differs from fold 0's (first at line {line + 1}); "
                "results of different evaluations cannot be averaged"
            )
        if len(values) != expected:
            raise ValueError(f"fold {fold} has {len(values)} values for {expected} placeholders")
    columns = zip(*(values for _, values in templates_and_values), strict=True) if expected else iter(())
    filled = iter([format_with_spread(*summarise(column, use_median)) for column in columns])
    # rebuilt field by field, so that format specs such as "{:.4f}" in a custom template are replaced too
    parts = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if field is not None:
            parts.append(next(filled))
    return "".join(parts)
