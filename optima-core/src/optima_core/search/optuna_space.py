"""The search space as an Optuna define-by-run function, for Ray Tune's ``OptunaSearch`` (main optimization).

``OptunaSearch(space=define_by_run(space), sampler=make_sampler(...), metric=..., mode=...)``: Ray calls the function
with (a wrapper of) an ``optuna.Trial``, records every ``trial.suggest_*(name, ...)`` result under ``name`` and then
overrides those with the dict the function returns (``{**suggested, **returned}``, Ray 2.60). Every value is suggested
under the hyperparameter's own name and the function returns the complete model_config, so the trial config a Tune
trainable receives is exactly the model_config: real values (mapped, not Optuna's raw numbers), fixed entries
included, hyperparameters rejected by ``only`` absent. The same function works on a plain ``study.ask()`` trial.

What Optuna stores in its study (and optuna-dashboard shows) is the raw parameter; where that differs from the real
value it is also recorded as a user attribute under the hyperparameter's name:

* ``sampling: 'normal'``: Optuna has no normal distribution. A quantile ``u`` is suggested uniformly in
  ``(EPSILON, 1 - EPSILON)`` and mapped through the inverse CDF of the normal distribution with ``mean``/``std``,
  truncated to the bounds when bounds are given (so no probability piles up at the bounds, as clipping would do),
  then put onto the step grid. TPE learns on ``u``, a monotonic transform of the value.
* conditional bounds (``(('a', ...), callable)``): Optuna needs the same distribution every time a name is suggested,
  so a fraction in ``[0, 1]`` is suggested and mapped (uniformly, log-uniformly, onto the step grid, or through the
  truncated normal) into the bounds the callable returns for this trial. TPE learns the relative position.
* choices whose values are not distinct ``None``/``bool``/``int``/``float``/``str`` (tuples, lists, dicts, ``1`` next to
  ``True``, ...): the index is suggested and mapped back to the real value.
* conditional values: a fraction in ``[0, 1]`` picks the index into the list the callable returns.
* a stepped float range whose width Optuna does not see as a multiple of the step (float rounding, e.g. bounds
  ``(51.37108344001487, 150.77108344001488)`` with step 0.05): the grid index is suggested (``suggest_int``).

Hyperparameter names must not contain ``'/'``: ``OptunaSearch`` unflattens such keys into nested dicts.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import optuna

from optima_core.search.sampling import (
    EPSILON,
    from_fraction,
    grid_steps,
    grid_upper,
    grid_value,
    snap,
    truncated_normal,
)
from optima_core.search.space import Conditional, Hyperparameter, SearchSpace, parse_search_space

_NATIVE_CHOICE_TYPES = (type(None), bool, int, float, str)


def startup_trials(n_trials: int) -> int:
    """Random trials before TPE starts modelling: a third of the run, at least 1 and at most Optuna's default 10.

    The original kept Optuna's fixed 10, so every run with fewer than 10 trials was a pure random search.
    """
    return min(10, max(1, n_trials // 3))


def make_sampler(
    use_tpe: bool, multivariate: bool, seed: int | None, n_trials: int, *, group: bool = False
) -> optuna.samplers.BaseSampler:
    """The sampler of the main optimization (``use_TPESampler``, ``use_multivariate_TPE``, ``num_samples_main``).

    ``multivariate`` is always passed explicitly: Optuna 5 defaults to the multivariate TPE. ``group`` (multivariate
    only, experimental in Optuna) decomposes conditional search spaces into groups sampled jointly.
    """
    if not use_tpe:
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(
        multivariate=multivariate,
        group=group and multivariate,
        seed=seed,
        n_startup_trials=startup_trials(n_trials),
    )


class DefineByRun:
    """``trial -> model_config``: suggests every searched hyperparameter in dependency order (see the module doc).

    A class rather than a closure because Ray Tune saves ``OptunaSearch`` (and so this object) with the standard
    ``pickle`` in every experiment checkpoint; the search space, whose conditions are often lambdas, is pickled with
    Ray's cloudpickle. Functions defined at the top of an importable module (such as the loaded run-config) are
    pickled by reference, so restoring needs that module loaded under the same name.
    """

    def __init__(self, space: Mapping[str, Any] | SearchSpace) -> None:
        self.space = parse_search_space(space)
        for name in self.space.names:
            if "/" in name:
                raise ValueError(
                    f"search_space[{name!r}]: hyperparameter names must not contain '/' "
                    "(Ray Tune's OptunaSearch would turn the key into a nested dict)"
                )
        if any(e.sampling == "normal" for e in self.space.searched):
            import scipy.stats  # noqa: F401  # now, not in the first trial (Ray warns when a define-by-run is slow)

    def __call__(self, trial: optuna.trial.Trial) -> dict[str, Any]:
        values: dict[str, Any] = {}  # what conditions see: None for a rejected hyperparameter
        rejected: set[str] = set()
        for entry in self.space.entries:
            if entry.kind == "fixed":
                values[entry.name] = entry.value
            elif entry.only is not None and not _accepted(entry, entry.only, values):
                values[entry.name] = None
                rejected.add(entry.name)
            elif entry.kind == "range":
                values[entry.name] = _suggest_range(trial, entry, values)
            else:
                values[entry.name] = _suggest_choice(trial, entry, values)
        return {name: values[name] for name in self.space.names if name not in rejected}

    def __reduce__(self) -> tuple[Callable[[bytes], DefineByRun], tuple[bytes]]:
        from ray import cloudpickle

        return _restore, (cloudpickle.dumps(self.space),)


def _restore(data: bytes) -> DefineByRun:
    from ray import cloudpickle

    return DefineByRun(cloudpickle.loads(data))


def define_by_run(space: Mapping[str, Any] | SearchSpace) -> DefineByRun:
    """The define-by-run function for ``OptunaSearch(space=...)``: a :class:`DefineByRun`."""
    return DefineByRun(space)


def _accepted(entry: Hyperparameter, only: Conditional, values: Mapping[str, Any]) -> bool:
    try:
        return bool(only(values))
    except Exception as error:
        raise ValueError(
            f"search_space[{entry.name!r}]['only']: the condition failed for {only.describe(values)}: {error!r}"
        ) from error


def _record(trial: optuna.trial.Trial, name: str, value: Any) -> Any:
    trial.set_user_attr(name, value if isinstance(value, _NATIVE_CHOICE_TYPES) else repr(value))
    return value


def _suggest_range(trial: optuna.trial.Trial, entry: Hyperparameter, values: Mapping[str, Any]) -> int | float:
    integer = entry.value_type == "int"
    if isinstance(entry.bounds, Conditional):
        lower, upper = _conditional_bounds(entry, entry.bounds, values)
        fraction = trial.suggest_float(entry.name, 0.0, 1.0)
        if entry.sampling == "normal":
            quantile = EPSILON + fraction * (1.0 - 2.0 * EPSILON)
            value = _normal(entry, quantile, lower, upper)
        else:
            value = from_fraction(fraction, lower, upper, integer=integer, log=entry.sampling == "log", step=entry.step)
        return _record(trial, entry.name, value)
    if entry.sampling == "normal":
        lower_or_none, upper_or_none = entry.bounds if entry.bounds is not None else (None, None)
        quantile = trial.suggest_float(entry.name, EPSILON, 1.0 - EPSILON)
        return _record(trial, entry.name, _normal(entry, quantile, lower_or_none, upper_or_none))
    assert entry.bounds is not None
    lower, upper = entry.bounds
    log = entry.sampling == "log"
    if integer:
        step = int(entry.step or 1)
        return trial.suggest_int(entry.name, int(lower), int(grid_upper(lower, upper, step, True)), step=step, log=log)
    if entry.step is None:
        return trial.suggest_float(entry.name, float(lower), float(upper), log=log)
    upper = grid_upper(lower, upper, entry.step, False)
    if _divisible(lower, upper, entry.step):
        value = trial.suggest_float(entry.name, float(lower), float(upper), step=entry.step)
        return float(snap(value, lower, upper, entry.step))  # 0.15, not Optuna's 0.15000000000000002
    # Optuna would shrink the range (with a warning) and could lose the last grid value: suggest the grid index
    index = trial.suggest_int(entry.name, 0, grid_steps(lower, upper, entry.step))
    return _record(trial, entry.name, float(grid_value(lower, index, entry.step, False)))


def _divisible(lower: float, upper: float, step: float) -> bool:
    """Optuna's own test of whether ``upper - lower`` is a multiple of ``step`` (on the ``str`` of the floats)."""
    return (Decimal(str(float(upper))) - Decimal(str(float(lower)))) % Decimal(str(float(step))) == 0


def _normal(entry: Hyperparameter, quantile: float, lower: float | None, upper: float | None) -> float:
    assert entry.mean is not None and entry.std is not None
    value = truncated_normal(quantile, entry.mean, entry.std, lower, upper)
    return float(snap(value, lower, upper, entry.step))


def _conditional_bounds(
    entry: Hyperparameter, bounds: Conditional, values: Mapping[str, Any]
) -> tuple[int | float, int | float]:
    where = f"search_space[{entry.name!r}]['bounds']"
    try:
        result = bounds(values)
    except Exception as error:
        raise ValueError(f"{where}: the callable failed for {bounds.describe(values)}: {error!r}") from error
    expected = "(lower, upper) with two numbers, lower <= upper"
    if entry.value_type == "int":
        expected += ", integers"
    if entry.sampling == "log":
        expected += ", lower > 0"
    ok = (
        isinstance(result, (list, tuple))
        and len(result) == 2
        and all(isinstance(b, numbers.Real) and not isinstance(b, bool) and b == b for b in result)
    )
    if ok:
        lower, upper = result
        ok = lower <= upper and (entry.sampling != "log" or lower > 0)
        if entry.value_type == "int":
            ok = ok and all(float(b).is_integer() for b in result)
            lower, upper = int(lower), int(upper)
        if ok:
            return lower, upper
    raise ValueError(f"{where}: the callable returned {result!r} for {bounds.describe(values)}; expected {expected}")


def _native_choices(options: tuple[Any, ...]) -> bool:
    """Whether Optuna can take ``options`` as they are (it identifies a choice by ``==`` and stores primitives)."""
    if not all(type(v) in _NATIVE_CHOICE_TYPES for v in options):
        return False
    if any(isinstance(v, float) and v != v for v in options):
        return False
    return len(set(options)) == len(options)  # 1, 1.0 and True are equal: index them instead


def _suggest_choice(trial: optuna.trial.Trial, entry: Hyperparameter, values: Mapping[str, Any]) -> Any:
    if isinstance(entry.values, Conditional):
        options = _conditional_values(entry, entry.values, values)
        fraction = trial.suggest_float(entry.name, 0.0, 1.0)
        return _record(trial, entry.name, options[min(int(fraction * len(options)), len(options) - 1)])
    assert entry.values is not None
    options = entry.values
    if _native_choices(options):
        return trial.suggest_categorical(entry.name, list(options))
    index = trial.suggest_categorical(entry.name, list(range(len(options))))
    return _record(trial, entry.name, options[int(index)])


def _conditional_values(entry: Hyperparameter, conditional: Conditional, values: Mapping[str, Any]) -> tuple[Any, ...]:
    where = f"search_space[{entry.name!r}]['values']"
    try:
        result = conditional(values)
    except Exception as error:
        raise ValueError(f"{where}: the callable failed for {conditional.describe(values)}: {error!r}") from error
    if not isinstance(result, (list, tuple)) or len(result) == 0:
        raise ValueError(
            f"{where}: the callable returned {result!r} for {conditional.describe(values)}; "
            "expected a non-empty list or tuple of allowed values"
        )
    return tuple(result)
