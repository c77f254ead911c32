"""Typed entries of a search space: the run-config's ``search_space`` dict parsed once, in dependency order.

Every entry becomes a :class:`Hyperparameter` of kind ``range``, ``choice`` or ``fixed`` (anything that is not a dict).
Conditional bounds, conditional values and ``only`` conditions become :class:`Conditional` objects; entries are
ordered so that every hyperparameter comes after those its conditions name. Light on imports: the Optuna and Tune
translations import their libraries themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from optima_core.plugins.descriptors import BackendDescriptor

Kind = Literal["range", "choice", "fixed"]


@dataclass(frozen=True)
class Conditional:
    """A ``(('hp_a', 'hp_b', ...), callable)`` pair: the callable gets the named values as positional arguments."""

    names: tuple[str, ...]
    function: Callable[..., Any]

    def __call__(self, values: Mapping[str, Any]) -> Any:
        """Call the function with the values of :attr:`names` (``None`` for a rejected hyperparameter)."""
        return self.function(*(values.get(name) for name in self.names))

    def describe(self, values: Mapping[str, Any]) -> str:
        """``a=1, b=None``: the arguments a call would get, for error messages."""
        return ", ".join(f"{name}={values.get(name)!r}" for name in self.names)


@dataclass(frozen=True)
class Hyperparameter:
    """One entry of the search space.

    ``bounds``/``values`` are either static or :class:`Conditional`. ``step`` is 1 for integer ranges without an
    explicit step and ``None`` (continuous) for float ranges without one. ``supports_mutation`` is ``None`` when the
    entry does not set it (see :func:`mutation_flags`). For ``fixed`` entries only ``name`` and ``value`` are used.
    """

    name: str
    kind: Kind
    value: Any = None
    value_type: Literal["int", "float"] = "float"
    sampling: Literal["uniform", "log", "normal"] = "uniform"
    bounds: tuple[float, float] | Conditional | None = None
    step: float | None = None
    mean: float | None = None
    std: float | None = None
    values: tuple[Any, ...] | Conditional | None = None
    supports_mutation: bool | None = None
    only: Conditional | None = None

    @property
    def dependencies(self) -> tuple[str, ...]:
        """Names of the hyperparameters that the conditions of this entry read."""
        found: list[str] = []
        for part in (self.bounds, self.values, self.only):
            if isinstance(part, Conditional):
                found.extend(n for n in part.names if n not in found)
        return tuple(found)

    @property
    def conditional(self) -> bool:
        """Whether bounds or values depend on other hyperparameters, or an ``only`` condition is set."""
        return isinstance(self.bounds, Conditional) or isinstance(self.values, Conditional) or self.only is not None


@dataclass(frozen=True)
class SearchSpace:
    """The parsed search space: :attr:`entries` in dependency order, :attr:`names` in the order of the run-config."""

    entries: tuple[Hyperparameter, ...]
    names: tuple[str, ...]

    def __getitem__(self, name: str) -> Hyperparameter:
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def __iter__(self) -> Iterator[Hyperparameter]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def searched(self) -> tuple[Hyperparameter, ...]:
        """The range and choice entries (everything that is sampled)."""
        return tuple(e for e in self.entries if e.kind != "fixed")


def _conditional(name: str, key: str, value: Any) -> Conditional | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and len(value) == 2 and callable(value[1]):
        names = value[0]
        if isinstance(names, str) or not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
            raise ValueError(
                f"search_space[{name!r}][{key!r}]: the names {names!r} must be a tuple of hyperparameter names"
            )
        return Conditional(tuple(names), value[1])
    return None


def _parse_entry(name: str, entry: Any) -> Hyperparameter:
    if not isinstance(entry, dict):
        return Hyperparameter(name=name, kind="fixed", value=entry)
    kind = entry.get("type") or ("range" if "bounds" in entry else "choice")
    supports = entry.get("supports_mutation")
    only = None
    if "only" in entry:
        only = _conditional(name, "only", entry["only"])
        if only is None:
            raise ValueError(f"search_space[{name!r}]['only']: got {entry['only']!r}, expected (('hp', ...), callable)")
    if kind == "choice":
        raw = entry.get("values")
        values: tuple[Any, ...] | Conditional | None = _conditional(name, "values", raw)
        if values is None:
            if not isinstance(raw, (list, tuple)) or not raw:
                raise ValueError(f"search_space[{name!r}]['values']: got {raw!r}, expected a non-empty list")
            values = tuple(raw)
        return Hyperparameter(name=name, kind="choice", values=values, supports_mutation=supports, only=only)
    if kind != "range":
        raise ValueError(f"search_space[{name!r}]['type']: got {kind!r}, expected 'range' or 'choice'")

    value_type = entry.get("value_type", "float")
    raw_bounds = entry.get("bounds")
    bounds: tuple[float, float] | Conditional | None = _conditional(name, "bounds", raw_bounds)
    if bounds is None and raw_bounds is not None:
        lower, upper = raw_bounds
        bounds = (lower, upper)
    step = entry.get("step")
    if step is None and value_type == "int":
        step = 1
    return Hyperparameter(
        name=name,
        kind="range",
        value_type=value_type,
        sampling=entry.get("sampling", "uniform"),
        bounds=bounds,
        step=step,
        mean=entry.get("mean"),
        std=entry.get("std"),
        supports_mutation=supports,
        only=only,
    )


def _dependency_order(entries: list[Hyperparameter]) -> list[Hyperparameter]:
    """Entries sorted so that each follows its dependencies; otherwise the order of the run-config is kept."""
    by_name = {e.name: e for e in entries}
    for entry in entries:
        for dependency in entry.dependencies:
            if dependency not in by_name:
                raise ValueError(
                    f"search_space[{entry.name!r}]: depends on {dependency!r}, which is not in the search space"
                )
            if dependency == entry.name:
                raise ValueError(f"search_space[{entry.name!r}]: depends on itself")
    ordered: list[Hyperparameter] = []
    placed: set[str] = set()
    remaining = list(entries)
    while remaining:
        ready = next((e for e in remaining if all(d in placed for d in e.dependencies)), None)
        if ready is None:
            cycle = ", ".join(e.name for e in remaining)
            raise ValueError(f"search_space: the dependencies of {cycle} form a cycle")
        ordered.append(ready)
        placed.add(ready.name)
        remaining.remove(ready)
    return ordered


def parse_search_space(space: Mapping[str, Any] | SearchSpace) -> SearchSpace:
    """Parse a (validated) ``search_space`` dict; a :class:`SearchSpace` is returned unchanged."""
    if isinstance(space, SearchSpace):
        return space
    entries = [_parse_entry(name, entry) for name, entry in space.items()]
    return SearchSpace(entries=tuple(_dependency_order(entries)), names=tuple(space))


def mutation_flags(
    space: Mapping[str, Any] | SearchSpace,
    backend: BackendDescriptor | None = None,
    run_config_hooks: Collection[str] = (),
) -> dict[str, bool]:
    """Which searched hyperparameters Population Based Training may mutate: the one answer for validation and PBT.

    An explicit ``'supports_mutation'`` wins. Otherwise a hyperparameter is mutatable when it is one of the
    ``backend``'s built-in mutatable hyperparameters and its built-in model is in use (the run-config, whose hook
    names are ``run_config_hooks``, replaces none of its model hooks). Without a backend only explicit flags count.
    Fixed entries are not listed.
    """
    builtin = backend if backend is not None and backend.builtin_model_in_use(run_config_hooks) else None
    return {
        e.name: e.supports_mutation
        if e.supports_mutation is not None
        else builtin is not None and builtin.is_builtin_mutatable(e.name)
        for e in parse_search_space(space).searched
    }
