"""Metrics for OPTIMA run-configs: physics figures of merit usable as ``custom_metrics``, and weighted metrics.

Use them in a run-config::

    from optima_core.metrics import BinnedSignificance, WeightedAUC
    custom_metrics = [
        ("auc", WeightedAUC()),
        ("Z", BinnedSignificance(expected_signal=12.0, expected_background=340.0, bins=20, min_events_per_bin=10)),
    ]
    monitor_name, monitor_op = "val_Z", "max"
"""

from optima_core.metrics.figures_of_merit import BinnedSignificance, WeightedAUC, weighted_roc_auc, weighted_roc_curve

__all__ = ["BinnedSignificance", "WeightedAUC", "weighted_roc_auc", "weighted_roc_curve"]
