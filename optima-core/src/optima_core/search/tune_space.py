"""The search space as Ray Tune domains for Population Based Training (the fine-tuning stage).

``param_space, mutations = pbt_domains(space, flags, fixed_values)``; then
``PopulationBasedTraining(hyperparam_mutations=mutations, custom_explore_fn=pbt_explore_fn(space, flags), ...)`` and
``tune.Tuner(..., param_space=param_space)``. Mutatable hyperparameters get Tune domains (the initial population is
sampled from them); every other hyperparameter is fixed: fixed entries to their value, the rest to the value found
by the previous stage (``fixed_values``).

Ray's PBT treats a domain in ``hyperparam_mutations`` as continuous (it multiplies the value by 0.8 or 1.2), so:

* choices are given to ``hyperparam_mutations`` as plain lists (PBT then moves to a neighbouring value or resamples;
  a ``tune.choice`` would multiply a string);
* a stepped range whose lower bound is not a multiple of the step (Tune quantizes to multiples of ``q``, the
  reference to ``lower + k * step``) becomes a choice over its grid, mutated the same way;
* multiplied values can leave the bounds and the step grid: :func:`pbt_explore_fn` moves them back.

A normal-sampled range with bounds is a ``Float`` domain with a truncated-normal sampler (Tune's own normal sampler
refuses bounds).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from ray import tune
from ray.tune.search.sample import Categorical, Domain, Float, Normal

from optima_core.search.sampling import EPSILON, grid_steps, grid_upper, grid_value, snap, truncated_normal
from optima_core.search.space import Conditional, Hyperparameter, SearchSpace, parse_search_space


class TruncatedNormal(Normal):
    """Tune sampler: normal with ``mean``/``sd`` truncated to the domain's bounds, then put onto the step grid."""

    def __init__(self, mean: float, sd: float, step: float | None) -> None:
        super().__init__(mean, sd)
        self.step = step

    def sample(self, domain: Any, config: Any = None, size: int = 1, random_state: Any = None) -> Any:
        # Domain.sample always hands over Ray's numpy-generator wrapper
        quantiles = random_state.uniform(EPSILON, 1.0 - EPSILON, size=size)
        lower, upper = domain.lower, domain.upper
        items = [
            domain.cast(snap(truncated_normal(q, self.mean, self.sd, lower, upper), lower, upper, self.step))
            for q in quantiles
        ]
        return items if len(items) > 1 else items[0]

    def __str__(self) -> str:
        return "TruncatedNormal"


def _aligned(*values: float, step: float) -> bool:
    """Whether all ``values`` are multiples of ``step`` by Tune's own test (then its grid is the reference's grid)."""
    return all(math.isclose(v / step, round(v / step)) for v in values)


def _grid(lower: float, upper: float, step: float, integer: bool) -> list[int | float]:
    return [grid_value(lower, k, step, integer) for k in range(grid_steps(lower, upper, step) + 1)]


def range_domain(entry: Hyperparameter) -> Domain:
    """The Tune domain of a range entry with static bounds (or none, for normal sampling)."""
    integer = entry.value_type == "int"
    if entry.sampling == "normal":
        assert entry.mean is not None and entry.std is not None
        if entry.bounds is None:
            if entry.step is None:
                return tune.randn(entry.mean, entry.std)
            return tune.qrandn(entry.mean, entry.std, entry.step)
        lower, upper = entry.bounds  # type: ignore[misc]
        domain = Float(lower, upper)
        domain.set_sampler(TruncatedNormal(entry.mean, entry.std, entry.step))
        return domain
    assert entry.bounds is not None and not isinstance(entry.bounds, Conditional)
    lower, upper = entry.bounds
    if entry.sampling == "log":
        return tune.lograndint(int(lower), int(upper) + 1) if integer else tune.loguniform(lower, upper)
    if integer and (entry.step or 1) == 1:
        return tune.randint(int(lower), int(upper) + 1)  # Tune's upper bound is exclusive
    if entry.step is None:
        return tune.uniform(lower, upper)
    top = grid_upper(lower, upper, entry.step, integer)
    if not _aligned(lower, top, step=entry.step):
        return tune.choice(_grid(lower, upper, entry.step, integer))
    if integer:
        return tune.qrandint(int(lower), int(top), int(entry.step))
    return tune.quniform(lower, top, entry.step)


def _reject_conditional(entry: Hyperparameter) -> None:
    parts = [
        what
        for what, conditional in (
            ("conditional bounds", isinstance(entry.bounds, Conditional)),
            ("conditional values", isinstance(entry.values, Conditional)),
            ("an 'only' condition", entry.only is not None),
        )
        if conditional
    ]
    raise ValueError(
        "conditional search spaces are not supported for Population Based Training: "
        f"search_space[{entry.name!r}] supports mutation but has {' and '.join(parts)}; give it static bounds/values "
        "without 'only', or set 'supports_mutation': False"
    )


def pbt_domains(
    space: Mapping[str, Any] | SearchSpace, flags: Mapping[str, bool], fixed_values: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(param_space, hyperparam_mutations)`` for Population Based Training.

    ``flags`` says which searched hyperparameters are mutatable (:func:`~optima_core.search.space.mutation_flags`).
    ``fixed_values`` holds the previous stage's best hyperparameters; a non-mutatable hyperparameter takes its value
    from there, or is left out when its ``only`` condition (evaluated on the fixed values) rejects it.
    """
    parsed = parse_search_space(space)
    fixed_values = fixed_values or {}
    known: dict[str, Any] = {}  # what 'only' conditions of non-mutatable entries see
    param_space: dict[str, Any] = {}
    mutations: dict[str, Any] = {}
    for entry in parsed.entries:
        name = entry.name
        if entry.kind == "fixed":
            param_space[name] = known[name] = entry.value
        elif flags.get(name, False):
            if entry.conditional:
                _reject_conditional(entry)
            known[name] = fixed_values.get(name)
            if entry.kind == "choice":
                options = list(entry.values)  # type: ignore[arg-type]
                param_space[name], mutations[name] = tune.choice(options), options
            else:
                domain = range_domain(entry)
                param_space[name] = domain
                mutations[name] = list(domain.categories) if isinstance(domain, Categorical) else domain
        elif name in fixed_values:
            param_space[name] = known[name] = fixed_values[name]
        elif entry.only is not None and not entry.only(known):
            known[name] = None
        else:
            available = ", ".join(sorted(map(str, fixed_values))) or "none"
            raise ValueError(
                f"search_space[{name!r}] does not support mutation, so Population Based Training fixes it to the "
                f"value found by the previous stage, but fixed_values has no {name!r} (it has: {available})"
            )
    order = {name: i for i, name in enumerate(parsed.names)}
    return dict(sorted(param_space.items(), key=lambda kv: order[kv[0]])), mutations


class _SnapToSpace:
    """``custom_explore_fn`` for PBT: mutated range values back into their bounds and onto their step grid."""

    def __init__(self, ranges: dict[str, tuple[float | None, float | None, float | None, bool]]) -> None:
        self.ranges = ranges

    def __call__(self, config: dict[str, Any]) -> dict[str, Any]:
        for name, (lower, upper, step, integer) in self.ranges.items():
            if config.get(name) is not None:
                config[name] = snap(config[name], lower, upper, step, integer)
        return config


def pbt_explore_fn(space: Mapping[str, Any] | SearchSpace, flags: Mapping[str, bool]) -> Callable[[dict], dict]:
    """The ``custom_explore_fn`` that keeps PBT's perturbed values (×0.8, ×1.2) inside the search space."""
    ranges: dict[str, tuple[float | None, float | None, float | None, bool]] = {}
    for entry in parse_search_space(space).searched:
        if entry.kind != "range" or not flags.get(entry.name, False) or entry.conditional:
            continue
        lower, upper = entry.bounds if entry.bounds is not None else (None, None)  # type: ignore[misc]
        step = None if entry.sampling == "log" else entry.step
        ranges[entry.name] = (lower, upper, step, entry.value_type == "int")
    return _SnapToSpace(ranges)
