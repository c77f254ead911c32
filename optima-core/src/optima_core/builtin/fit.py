"""The built-in fit of a metric's history, used by best-fit trial selection.

The model is f(x) = a/x**2 + b/x + c*x**2 + d*x + e, fitted by least squares (scipy's ``curve_fit``) to the
metric as a function of the epoch. Histories shorter than :data:`MIN_POINTS` epochs are not fitted: the five
parameters would follow the noise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

MIN_POINTS = 10


def model(x: Any, a: float, b: float, c: float, d: float, e: float) -> Any:
    x = np.asarray(x, dtype=float)
    return a / x**2 + b / x + c * x**2 + d * x + e


def fit_history(df: Any, metric_to_fit: str) -> Callable[[Any], Any] | None:
    """Fit ``df[metric_to_fit]`` against ``df['training_iteration']``; ``None`` if too short or not finite."""
    from scipy.optimize import curve_fit

    frame = df[["training_iteration", metric_to_fit]].dropna()
    x = frame["training_iteration"].to_numpy(dtype=float)
    y = frame[metric_to_fit].to_numpy(dtype=float)
    finite = np.isfinite(y) & (x > 0)
    x, y = x[finite], y[finite]
    if len(x) < MIN_POINTS:
        return None
    try:
        parameters, _ = curve_fit(model, x, y, p0=[0.0, 0.0, 0.0, 0.0, float(np.mean(y))], maxfev=20000)
    except (RuntimeError, ValueError):
        return None

    def fitted(epoch: Any) -> Any:
        return model(epoch, *parameters)

    return fitted


def r_squared(function: Callable[[Any], Any], x: Any, y: Any) -> float:
    """Coefficient of determination of ``function`` on the points (x, y)."""
    y = np.asarray(y, dtype=float)
    residual = float(np.sum((y - function(np.asarray(x, dtype=float))) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - residual / total if total > 0 else (1.0 if residual == 0 else 0.0)
