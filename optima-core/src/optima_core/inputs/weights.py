"""Event weights: per-class normalisation, ``max_event_weight`` duplication, mean weight 1.

The built-in ``get_inputs`` turns the file's event weights ``w`` into two columns:

* ``ScaledWeight`` -- the original weights (physical yields), used for plots and evaluation.
* ``Weight`` -- the training weights: every class gets the same total weight, and the mean weight is 1.

Steps, in this order:

1. **Per-class normalisation.** Each class's weights are divided by the class's sum of weights, then all are
   multiplied by ``N / n_classes``: every class then sums to ``N / n_classes`` and all weights to ``N``.
2. **Duplication of heavy events** (only when ``max_event_weight`` is finite). The threshold is
   ``max_event_weight`` times the median of the absolute normalised weights (median of the non-zero ones, computed
   once, before duplicating). An event whose absolute weight exceeds it is replaced by ``2**h`` identical copies,
   each with ``1/2**h`` of its ``Weight`` and ``ScaledWeight``, with the smallest ``h`` that brings it to or below the
   threshold. Sums of weights are unchanged; copies share the event number, so event-number splitting and random
   splitting (which splits whole event-number groups) keep all copies of an event in the same set.
3. **Mean weight 1.** After duplication all training weights are multiplied by ``N_after / N_before``.

Computation is in float64; both columns are stored as float32 (float64 weights broke the original's Keras loss).

Negative weights (NLO Monte Carlo) are supported:

* **Training loss:** ``Weight`` keeps the sign of the original weight; negative-weight events enter the weighted
  loss (and weighted metrics) with their negative weight, exactly as in a weighted histogram.
* **Normalisation:** uses each class's *signed* sum of weights (its net yield). A class whose signed sum is zero
  or negative cannot be normalised and is reported as an error.
* **Duplication:** decided on the absolute weight; copies keep the sign.
* **Plots:** input histograms are filled with the signed ``ScaledWeight`` (bins may dip below zero).
* **ROC curves and other cut-based evaluation figures:** events with negative weight are left out (a ROC curve
  needs non-negative efficiencies); weighted loss and metrics in the evaluation keep them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optima_core.inputs.errors import data_error

#: Refuse a ``max_event_weight`` that would blow the dataset up beyond this many times its size.
MAX_GROWTH = 10.0


@dataclass(frozen=True)
class WeightResult:
    """The training and original weights per output row, and the file row each output row comes from."""

    weight: np.ndarray  # float32, training weights
    scaled_weight: np.ndarray  # float32, original weights (split among copies)
    repeat: np.ndarray | None  # row index into the input per output row; None: no duplication (output = input)

    @property
    def n_added(self) -> int:
        """Rows added by duplication."""
        return 0 if self.repeat is None else len(self.repeat) - int(self.repeat[-1]) - 1


def normalise_per_class(weights: np.ndarray, classes: np.ndarray, n_classes: int) -> np.ndarray:
    """Every class sums to ``N / n_classes`` (so all weights sum to ``N``); signed sums; float64.

    The caller guarantees every class is present with a positive signed sum
    (:func:`optima_core.inputs.checks.check_weights`).
    """
    weights = np.asarray(weights, dtype=np.float64)
    sums = np.bincount(classes, weights=weights, minlength=n_classes)
    target_total = len(weights) / n_classes
    return weights * (target_total / sums)[classes]


def copies_needed(weights: np.ndarray, max_event_weight: float) -> np.ndarray | None:
    """Number of copies (a power of 2) of every event for ``max_event_weight``; ``None`` when none is needed."""
    if not np.isfinite(max_event_weight):
        return None
    magnitude = np.abs(weights)
    nonzero = magnitude[magnitude > 0]
    if nonzero.size == 0:
        return None
    threshold = max_event_weight * float(np.median(nonzero))
    heavy = magnitude > threshold
    if not heavy.any():
        return None
    halvings = np.zeros(len(weights), dtype=np.int64)
    ratio = magnitude[heavy] / threshold
    h = np.ceil(np.log2(ratio)).astype(np.int64)
    # log2 rounding: make sure 2**h is the smallest power that brings the weight to or below the threshold.
    h += ratio / np.exp2(h) > 1
    h -= (h > 0) & (ratio / np.exp2(h - 1) <= 1)
    halvings[heavy] = h
    return np.left_shift(np.ones(len(weights), dtype=np.int64), halvings)


def compute_weights(
    original: np.ndarray,
    classes: np.ndarray,
    n_classes: int,
    max_event_weight: float = np.inf,
    source: Any = None,
) -> WeightResult:
    """Apply the three steps of this module's docstring to the ``original`` weights of the selected events."""
    original = np.asarray(original, dtype=np.float64)
    normalised = normalise_per_class(original, classes, n_classes)
    copies = copies_needed(normalised, max_event_weight)
    if copies is None:
        return WeightResult(normalised.astype(np.float32), original.astype(np.float32), None)
    total = int(copies.sum())
    if total > MAX_GROWTH * len(original):
        raise data_error(
            source,
            "max_event_weight",
            max_event_weight,
            f"a threshold that keeps the dataset below {MAX_GROWTH:g}x its size",
            f"it would turn {len(original)} events into {total} copies; typical values are 10 to 100",
        )
    # Per-event values first, then one float32 gather each: few full-size temporaries.
    repeat = np.repeat(np.arange(len(original)), copies)
    weight = (normalised * (len(repeat) / len(original)) / copies).astype(np.float32)[repeat]
    scaled = (original / copies).astype(np.float32)[repeat]
    return WeightResult(weight, scaled, repeat)
