"""Loss functions of the built-in Lightning MLP, computed from logits for numerical stability.

The names and the class weighting are those of the Keras built-in (``optima_keras.losses``): ``'BinaryCrossentropy'``,
``'CategoricalCrossentropy'`` and ``'KLDivergence'``, each per-event value multiplied by the weight of the event's
class (``loss_weight_class_N``; for soft targets the target-weighted average of the class weights).

Class numbering follows the target columns: with ``k`` one-hot columns class ``N`` is column ``N``; with a single
column (sigmoid output) class 0 is the positive class (target 1, e.g. "Signal") and class 1 the negative one (target
0). For one column the categorical losses are computed on the two-class distributions ``(y, 1 - y)`` and
``(p, 1 - p)``, so they do not degenerate. Unlike Keras, probabilities are not clipped to ``[1e-7, 1 - 1e-7]``:
log-probabilities come straight from the logits.

A batch (or a whole dataset) reduces to the weighted mean ``sum(w * l) / sum(w)`` with ``w`` the event weights
(1 without weights; negative weights allowed) and ``l`` the class-weighted per-event loss, the same definition the
engine uses for the Keras backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch.nn import functional
from torchmetrics import Metric


def class_distribution(targets: torch.Tensor) -> torch.Tensor:
    """``[B, K]`` target class probabilities: ``k`` columns as given, a single column ``y`` as ``(y, 1 - y)``."""
    if targets.shape[-1] == 1:
        return torch.cat([targets, 1.0 - targets], dim=-1)
    return targets


def _log_probabilities(logits: torch.Tensor) -> torch.Tensor:
    if logits.shape[-1] == 1:
        return torch.cat([functional.logsigmoid(logits), functional.logsigmoid(-logits)], dim=-1)
    return functional.log_softmax(logits, dim=-1)


def _log_one_minus_softmax(logits: torch.Tensor) -> torch.Tensor:
    # log(1 - softmax_k) = logsumexp over j != k of z_j  -  logsumexp over all j of z_j, without cancellation.
    k = logits.shape[-1]
    others = logits.unsqueeze(-2).expand(*logits.shape[:-1], k, k)
    mask = torch.eye(k, dtype=torch.bool, device=logits.device)
    others = others.masked_fill(mask, float("-inf"))
    return torch.logsumexp(others, dim=-1) - torch.logsumexp(logits, dim=-1, keepdim=True)


def per_event_loss(
    logits: torch.Tensor, targets: torch.Tensor, loss_function: str, class_weights: Sequence[float] | None = None
) -> torch.Tensor:
    """The unreduced, class-weighted loss ``[B]`` of ``logits`` ``[B, k]`` against ``targets`` ``[B, k]``.

    ``class_weights`` has one entry per class (2 for a single column); ``None``: all 1.
    """
    if loss_function == "BinaryCrossentropy":
        if logits.shape[-1] == 1:
            values = functional.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(dim=-1)
        else:
            # Keras' BinaryCrossentropy on k softmax outputs: the mean over the columns of the element-wise values.
            log_p = functional.log_softmax(logits, dim=-1)
            values = -(targets * log_p + (1.0 - targets) * _log_one_minus_softmax(logits)).mean(dim=-1)
    elif loss_function in ("CategoricalCrossentropy", "KLDivergence"):
        distribution = class_distribution(targets)
        values = -(distribution * _log_probabilities(logits)).sum(dim=-1)
        if loss_function == "KLDivergence":
            values = values + torch.xlogy(distribution, distribution).sum(dim=-1)
    else:
        raise ValueError(f"unknown loss_function {loss_function!r}")
    if class_weights is not None and any(w != 1.0 for w in class_weights):
        vector = torch.as_tensor(class_weights, dtype=values.dtype, device=values.device)
        values = values * (class_distribution(targets) @ vector)
    return values


def weighted_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``sum(w * v) / sum(w)``; a zero weight sum gives ``sum(w * v)`` (i.e. 0 for all-zero weights) instead of NaN."""
    total = weights.sum()
    return (weights * values).sum() / torch.where(total == 0, torch.ones_like(total), total)


def regularization(kernels: Iterable[torch.Tensor], l1_lambda: float, l2_lambda: float) -> torch.Tensor | float:
    """Keras' L1L2 penalty ``l1 * sum|W| + l2 * sum W^2`` summed over ``kernels`` (0.0 when both lambdas are 0)."""
    penalty: torch.Tensor | float = 0.0
    if l1_lambda == 0.0 and l2_lambda == 0.0:
        return penalty
    for kernel in kernels:
        if l1_lambda:
            penalty = penalty + l1_lambda * kernel.abs().sum()
        if l2_lambda:
            penalty = penalty + l2_lambda * kernel.square().sum()
    return penalty


class WeightedMean(Metric):
    """``sum(w * l) / sum(w)`` accumulated over the batches of an epoch (the exact dataset-level weighted mean).

    torchmetrics' ``MeanMetric`` is not used: with ``nan_strategy='disable'`` it silently drops the weights, and
    every other strategy hides NaN losses, which should stay visible.
    """

    full_state_update = False
    weighted_sum: torch.Tensor
    weight_sum: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.add_state("weighted_sum", default=torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("weight_sum", default=torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, values: torch.Tensor, weights: torch.Tensor | float) -> None:
        """Add one batch of per-event ``values`` and their ``weights``; a number as ``weights`` weighs every value
        alike (the training loss, one value per batch weighed by the batch size)."""
        if isinstance(weights, torch.Tensor):
            self.weighted_sum += (values.detach() * weights).sum().to(self.weighted_sum.dtype)
            self.weight_sum += weights.sum().to(self.weight_sum.dtype)
        else:  # two in-place operations instead of six and a new tensor: this runs at every training step
            self.weighted_sum.add_(values.detach().sum(), alpha=weights)
            self.weight_sum.add_(weights * values.numel())

    def compute(self) -> torch.Tensor:
        """The weighted mean; like :func:`weighted_mean`, a zero weight sum gives the weighted sum instead of NaN."""
        total = self.weight_sum
        return self.weighted_sum / torch.where(total == 0, torch.ones_like(total), total)
