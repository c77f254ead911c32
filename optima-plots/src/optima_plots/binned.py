"""Weighted histograms with per-bin statistical uncertainties, and ratios of them with propagated uncertainties.

Histograms are filled with scikit-hep's ``hist`` (boost-histogram) using ``Weight`` storage, which keeps the sum of
weights and the sum of squared weights of every bin: the statistical uncertainty of a bin is
``sqrt(sum of w**2)``, also where weights are negative. Values outside the bin range are counted in the edge bins
(so no event is lost from a plot); non-finite values are left out.

Normalising to unit area divides contents and uncertainties by the same area (its own uncertainty is neglected,
as usual for shape comparisons). A ratio ``a / b`` of two independent histograms carries
``sqrt(σa**2 + (a/b)**2 σb**2) / |b|``; bins where ``b`` is not positive are left blank (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Binned:
    """Bin edges, contents (sum of weights) and statistical uncertainties (sqrt of the sum of squared weights)."""

    edges: np.ndarray
    values: np.ndarray
    errors: np.ndarray

    @classmethod
    def from_hist(cls, histogram: Any) -> Binned:
        """Contents and ``sqrt(variances)`` of a one-dimensional ``hist.Hist`` with ``Weight`` storage."""
        variances = histogram.variances()
        return cls(
            np.asarray(histogram.axes[0].edges, dtype=np.float64),
            np.asarray(histogram.values(), dtype=np.float64),
            np.sqrt(np.asarray(variances, dtype=np.float64)),
        )

    @property
    def area(self) -> float:
        return float(np.sum(self.values * np.diff(self.edges)))

    def scaled(self, factor: float) -> Binned:
        return Binned(self.edges, self.values * factor, self.errors * abs(factor))

    def unit_area(self) -> Binned:
        """Divided by its area; left as it is when the area is not positive (empty, or net negative weights)."""
        area = self.area
        return self.scaled(1.0 / area) if area > 0 else self


def weighted_hist(values: np.ndarray, weights: np.ndarray, edges: np.ndarray) -> Any:
    """A ``hist.Hist`` (``Weight`` storage) over ``edges`` filled with ``values``, the overflow in the edge bins."""
    import hist

    values = np.asarray(values, dtype=np.float64).reshape(-1)
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    # The upper edge is exclusive in boost-histogram: clip just below it, as np.histogram includes it.
    clipped = np.clip(values, edges[0], np.nextafter(edges[-1], -np.inf))
    keep = np.isfinite(clipped) & np.isfinite(weights)
    histogram = hist.Hist(hist.axis.Variable(np.asarray(edges, dtype=np.float64)), storage=hist.storage.Weight())
    histogram.fill(clipped[keep], weight=weights[keep])
    return histogram


def binned(values: np.ndarray, weights: np.ndarray, edges: np.ndarray, unit_area: bool = False) -> Binned:
    """:func:`weighted_hist` as a :class:`Binned`; ``unit_area``: normalised with :meth:`Binned.unit_area`."""
    result = Binned.from_hist(weighted_hist(values, weights, edges))
    return result.unit_area() if unit_area else result


def ratio(numerator: Binned, denominator: Binned) -> tuple[np.ndarray, np.ndarray]:
    """``numerator / denominator`` per bin and its uncertainty (independent samples); NaN where the denominator <= 0."""
    usable = denominator.values > 0
    safe = np.where(usable, denominator.values, 1.0)
    value = np.where(usable, numerator.values / safe, np.nan)
    error = np.where(usable, np.hypot(numerator.errors, value * denominator.errors) / safe, np.nan)
    return value, error
