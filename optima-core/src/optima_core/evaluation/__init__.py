"""Evaluation of trained models in the core: loss and every metric per split, averaged over folds.

* :mod:`~optima_core.evaluation.average`: averaging over folds and the one spread convention;
* :mod:`~optima_core.evaluation.results`: the results template (``label: {}`` lines) and the key of every value;
* :mod:`~optima_core.evaluation.builtin`: the built-in ``evaluate`` hook (predictions, loss, metrics; figures by
  name from the registered plot producers);
* :mod:`~optima_core.evaluation.folds`: evaluation of every fold model, ``evaluation.txt`` and ``evaluation.json``.

Import-light: numpy only until a model is evaluated.
"""

from optima_core.evaluation.average import (
    MAD_SCALE,
    average_results,
    format_with_spread,
    placeholder_count,
    spread_name,
    summarise,
)

__all__ = ["MAD_SCALE", "average_results", "format_with_spread", "placeholder_count", "spread_name", "summarise"]
