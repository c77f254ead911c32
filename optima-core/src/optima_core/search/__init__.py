"""Search spaces: the run-config's ``search_space`` translated for the optimization stages.

* :mod:`~optima_core.search.space` parses a validated ``search_space`` dict once into typed entries in dependency order,
  and decides which hyperparameters Population Based Training may mutate (:func:`mutation_flags`).
* :mod:`~optima_core.search.optuna_space` turns it into an Optuna define-by-run function for Ray Tune's ``OptunaSearch``
  (main optimization, TPE or random sampling: :func:`~optima_core.search.optuna_space.make_sampler`).
* :mod:`~optima_core.search.tune_space` turns it into Tune domains and mutations for ``PopulationBasedTraining``.

Validation (what is an allowed entry) lives in :mod:`optima_core.config.search_space`; this package assumes a valid
space and only raises for what can go wrong at sampling time (a conditional callable returning bad bounds, ...).
"""

from optima_core.search.space import (
    Conditional,
    Hyperparameter,
    SearchSpace,
    mutation_flags,
    parse_search_space,
)

__all__ = [
    "Conditional",
    "Hyperparameter",
    "SearchSpace",
    "mutation_flags",
    "parse_search_space",
]
