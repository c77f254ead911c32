"""The weighted ROC curve and its AUC, and physics figures of merit as custom metrics (AUC, binned S/sqrt(B)).

The figures of merit are callables ``(input_batch, y_pred_batch) -> float`` as ``custom_metrics`` expects, where ``input_batch``
is ``(inputs, targets)`` or ``(inputs, targets, weights)`` as NumPy arrays. Events with negative weights are left
out of the ROC curve (they can make it non-monotonic); the significance uses all weights, as a yield does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _unpack(input_batch: Any, y_pred_batch: Any, signal_class: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (is_signal, signal_score, weight) as flat arrays."""
    if not isinstance(input_batch, (tuple, list)) or len(input_batch) < 2:
        raise ValueError("expected input_batch = (inputs, targets) or (inputs, targets, weights)")
    targets = np.asarray(input_batch[1])
    weights = np.asarray(input_batch[2], dtype=np.float64).reshape(-1) if len(input_batch) > 2 else None
    scores = np.asarray(y_pred_batch, dtype=np.float64)
    if targets.ndim == 2 and targets.shape[1] > 1:  # one-hot: signal is the column `signal_class`
        is_signal = targets[:, signal_class] > 0.5
        score = scores[:, signal_class]
    else:  # binary: target 1 is signal
        is_signal = targets.reshape(-1) > 0.5
        score = scores.reshape(-1)
    if weights is None:
        weights = np.ones(len(score))
    return is_signal, score, weights


def weighted_roc_curve(is_signal: Any, score: Any, weight: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(background efficiency, signal efficiency)`` from (0, 0) to (1, 1), scanning the threshold from the top.

    The one ROC curve of OPTIMA (the evaluation's AUC and the plotted curves): events with negative weights are
    dropped (with them a weighted curve can run backwards), tied scores give one diagonal segment. Empty arrays if
    either class has no positive total weight.
    """
    is_signal = np.asarray(is_signal, dtype=bool).reshape(-1)
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    weight = np.asarray(weight, dtype=np.float64).reshape(-1)
    keep = weight >= 0
    is_signal, score, weight = is_signal[keep], score[keep], weight[keep]
    w_sig, w_bkg = weight[is_signal].sum(), weight[~is_signal].sum()
    if w_sig <= 0 or w_bkg <= 0:
        return np.empty(0), np.empty(0)
    order = np.argsort(-score, kind="mergesort")
    score, is_signal, weight = score[order], is_signal[order], weight[order]
    starts = np.r_[0, np.flatnonzero(np.diff(score)) + 1]
    sig = np.add.reduceat(np.where(is_signal, weight, 0.0), starts)
    bkg = np.add.reduceat(np.where(~is_signal, weight, 0.0), starts)
    return np.r_[0.0, np.cumsum(bkg)] / w_bkg, np.r_[0.0, np.cumsum(sig)] / w_sig


def weighted_roc_auc(is_signal: Any, score: Any, weight: Any) -> float:
    """Area under :func:`weighted_roc_curve` (trapezoidal, so a tie counts half); ``nan`` without both classes."""
    fpr, tpr = weighted_roc_curve(is_signal, score, weight)
    if fpr.size == 0:
        return float("nan")
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2.0)


class WeightedAUC:
    """ROC AUC of the signal output with event weights (negative weights ignored)."""

    def __init__(self, signal_class: int = 0) -> None:
        self.signal_class = signal_class

    def __call__(self, input_batch: Any, y_pred_batch: Any) -> float:
        return weighted_roc_auc(*_unpack(input_batch, y_pred_batch, self.signal_class))

    def __repr__(self) -> str:
        return f"WeightedAUC(signal_class={self.signal_class})"


class BinnedSignificance:
    """Binned S/sqrt(B) of the signal output, combined in quadrature over bins: Z = sqrt(sum_i s_i^2 / b_i).

    Signal and background weights are scaled to the expected yields (``expected_signal``,
    ``expected_background``) of the sample the metric is evaluated on. Bins (equal width in the score between
    0 and 1) are merged from the top down until each holds at least ``min_events_per_bin`` background events
    (raw Monte-Carlo counts) and positive background yield, so that a few events cannot fake a huge significance.
    With ``asimov=True`` the per-bin term is the Asimov significance 2((s+b)ln(1+s/b) - s) instead of s^2/b.
    """

    def __init__(
        self,
        expected_signal: float,
        expected_background: float,
        bins: int | Sequence[float] = 20,
        min_events_per_bin: int = 10,
        signal_class: int = 0,
        asimov: bool = False,
    ) -> None:
        if expected_signal <= 0 or expected_background <= 0:
            raise ValueError("expected_signal and expected_background must be positive yields")
        self.expected_signal = float(expected_signal)
        self.expected_background = float(expected_background)
        self.edges = np.linspace(0.0, 1.0, bins + 1) if isinstance(bins, int) else np.asarray(bins, dtype=float)
        self.min_events_per_bin = int(min_events_per_bin)
        self.signal_class = signal_class
        self.asimov = asimov

    def __call__(self, input_batch: Any, y_pred_batch: Any) -> float:
        is_signal, score, weight = _unpack(input_batch, y_pred_batch, self.signal_class)
        w_sig, w_bkg = weight[is_signal].sum(), weight[~is_signal].sum()
        if w_sig <= 0 or w_bkg <= 0:
            return float("nan")
        s, _ = np.histogram(score[is_signal], self.edges, weights=weight[is_signal] * self.expected_signal / w_sig)
        b, _ = np.histogram(
            score[~is_signal], self.edges, weights=weight[~is_signal] * self.expected_background / w_bkg
        )
        n_b, _ = np.histogram(score[~is_signal], self.edges)
        z_squared = 0.0
        acc_s = acc_b = 0.0
        acc_n = 0
        for i in range(len(s) - 1, -1, -1):  # merge from the most signal-like bin down
            acc_s, acc_b, acc_n = acc_s + s[i], acc_b + b[i], acc_n + n_b[i]
            if acc_n >= self.min_events_per_bin and acc_b > 0:
                z_squared += self._term(acc_s, acc_b)
                acc_s = acc_b = 0.0
                acc_n = 0
        if acc_b > 0 and (acc_s > 0):  # leftover low-score events: one last bin
            z_squared += self._term(acc_s, acc_b)
        return float(np.sqrt(max(z_squared, 0.0)))

    def _term(self, s: float, b: float) -> float:
        if self.asimov:
            return 2.0 * ((s + b) * np.log1p(s / b) - s)
        return s * s / b

    def __repr__(self) -> str:
        return (
            f"BinnedSignificance(expected_signal={self.expected_signal}, "
            f"expected_background={self.expected_background}, bins={len(self.edges) - 1}, "
            f"min_events_per_bin={self.min_events_per_bin})"
        )
