"""Hypothesis strategies for random valid search spaces, and a checker of sampled model configs against them.

Every callable in a generated space (conditional bounds, conditional values, ``only``) logs the arguments it gets
into :attr:`GeneratedSpace.calls`; the checker compares them with the values in the model config (``None`` for an
absent hyperparameter), so "dependants see the real values, and None for rejected ones" is checked directly.
The checker calls the unlogged function (``.raw``) to compute what it expects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

Call = tuple[str, str, tuple[Any, ...]]


@dataclass
class GeneratedSpace:
    space: dict[str, Any]
    calls: list[Call] = field(default_factory=list)

    def logged(self, owner: str, key: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            self.calls.append((owner, key, args))
            return function(*args)

        wrapper.raw = function  # type: ignore[attr-defined]
        return wrapper


def same(a: Any, b: Any) -> bool:
    """Equal and of the same type (so True is not 1 and an index is not the tuple it points to)."""
    return a is b or (type(a) is type(b) and a == b)


_FIXED = st.one_of(
    st.integers(-100, 100),
    st.text(max_size=4),
    st.none(),
    st.tuples(st.integers(0, 9), st.text(max_size=2)),
    st.lists(st.integers(0, 9), max_size=3),
)
_CHOICE_VALUE = st.one_of(
    st.integers(-5, 5),
    st.booleans(),
    st.floats(-5, 5, allow_nan=False),
    st.text(max_size=3),
    st.none(),
    st.tuples(st.integers(0, 3), st.sampled_from(["relu", "tanh"])),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2),
)
_FLOAT_STEPS = st.sampled_from([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0, 1e-3])


def _range_entry(draw: Any, kind: str) -> dict[str, Any]:
    if kind == "int":
        lower = draw(st.integers(-50, 50))
        entry: dict[str, Any] = {
            "type": "range",
            "value_type": "int",
            "bounds": (lower, lower + draw(st.integers(1, 60))),
        }
        if draw(st.booleans()):
            entry["step"] = draw(st.integers(1, 7))
        return entry
    if kind == "int_log":
        lower = draw(st.integers(1, 50))
        return {
            "type": "range",
            "value_type": "int",
            "sampling": "log",
            "bounds": (lower, lower + draw(st.integers(1, 900))),
        }
    if kind == "float":
        lower = draw(st.floats(-100, 100, allow_nan=False))
        entry = {"type": "range", "bounds": (lower, lower + draw(st.floats(1e-3, 100)))}
        if draw(st.booleans()):
            entry["step"] = draw(_FLOAT_STEPS)
        return entry
    if kind == "float_log":
        lower = draw(st.floats(1e-6, 10))
        return {"type": "range", "sampling": "log", "bounds": (lower, lower * draw(st.floats(1.01, 1e4)))}
    # normal, with or without bounds and step; the bounds may lie far in a tail
    mean, std = draw(st.floats(-10, 10)), draw(st.floats(0.01, 10))
    entry = {"type": "range", "sampling": "normal", "mean": mean, "std": std}
    if draw(st.booleans()):
        lower = draw(st.floats(-30, 30))
        entry["bounds"] = (lower, lower + draw(st.floats(0.01, 20)))
    if draw(st.booleans()):
        entry["step"] = draw(_FLOAT_STEPS)
    return entry


def _conditional_bounds(draw: Any, generated: GeneratedSpace, name: str, dependency: str) -> dict[str, Any]:
    """A range whose bounds widen with the absolute value of ``dependency`` (fixed width when it is None)."""
    kind = draw(st.sampled_from(["int", "int_log", "float", "float_log", "normal"]))
    integer = kind.startswith("int")
    base = draw(st.integers(1, 20)) if integer else draw(st.floats(0.001, 20))

    def bounds(value: Any) -> tuple[Any, Any]:
        extra = 0.0 if value is None else abs(float(value)) % 7
        if integer:
            return base, base + int(extra)  # lower == upper is allowed for a callable
        return base, base + 0.5 + extra

    entry: dict[str, Any] = {"type": "range", "bounds": ((dependency,), generated.logged(name, "bounds", bounds))}
    if integer:
        entry["value_type"] = "int"
    if kind.endswith("log"):
        entry["sampling"] = "log"
    elif kind == "normal":
        entry.update(sampling="normal", mean=draw(st.floats(-5, 25)), std=draw(st.floats(0.1, 5)))
    if not kind.endswith("log") and draw(st.booleans()):
        entry["step"] = draw(st.integers(1, 3)) if integer else draw(_FLOAT_STEPS)
    return entry


@st.composite
def search_spaces(draw: Any, conditional: bool = True, max_entries: int = 8) -> GeneratedSpace:
    """A random valid search space; conditions only name earlier entries, then the dict order is shuffled."""
    generated = GeneratedSpace({})
    entries: dict[str, Any] = {}
    numeric: list[str] = []
    for i in range(draw(st.integers(2, max_entries))):
        name = f"hp{i}"
        kinds = ["fixed", "choice", "int", "int_log", "float", "float_log", "normal"]
        if conditional and entries:
            kinds += ["conditional_values"] + (["conditional_bounds"] * 2 if numeric else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "fixed":
            entries[name] = draw(_FIXED)
            continue
        if kind == "choice":
            entry: dict[str, Any] = {"type": "choice", "values": draw(st.lists(_CHOICE_VALUE, min_size=1, max_size=5))}
        elif kind == "conditional_values":
            options = draw(st.lists(_CHOICE_VALUE, min_size=1, max_size=5))
            dependency = draw(st.sampled_from(sorted(entries)))

            def values(value: Any, options: list[Any] = options) -> list[Any]:
                return options[: 1 + len(repr(value)) % len(options)]

            entry = {"type": "choice", "values": ((dependency,), generated.logged(name, "values", values))}
        elif kind == "conditional_bounds":
            entry = _conditional_bounds(draw, generated, name, draw(st.sampled_from(numeric)))
        else:
            entry = _range_entry(draw, kind)
            numeric.append(name)
        if conditional and entries and draw(st.integers(0, 2)) == 0:
            dependency = draw(st.sampled_from(sorted(entries)))
            threshold = draw(st.floats(-20, 20))

            def only(value: Any, threshold: float = threshold) -> bool:
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return value > threshold
                return value is not None and len(repr(value)) % 2 == 0

            entry["only"] = ((dependency,), generated.logged(name, "only", only))
        entries[name] = entry
    order = draw(st.permutations(sorted(entries)))
    generated.space = {name: entries[name] for name in order}
    return generated


def _raw(pair: Any) -> tuple[tuple[str, ...], Callable[..., Any]] | None:
    if isinstance(pair, tuple) and len(pair) == 2 and callable(pair[1]):
        return tuple(pair[0]), getattr(pair[1], "raw", pair[1])
    return None


def check_range(name: str, value: Any, entry: Mapping[str, Any], bounds: Any) -> None:
    """``value`` is a valid draw of the range ``entry`` with the (static or evaluated) ``bounds``."""
    integer = entry.get("value_type") == "int"
    assert type(value) is (int if integer else float), (
        f"{name}: {value!r} should be {'an int' if integer else 'a float'}"
    )
    assert math.isfinite(value), f"{name}: {value!r}"
    if bounds is not None:
        lower, upper = bounds
        tolerance = 1e-9 * max(1.0, abs(lower), abs(upper))
        assert lower - tolerance <= value <= upper + tolerance, f"{name}: {value!r} outside {bounds}"
    if entry.get("sampling") == "log":
        assert value > 0, f"{name}: log-sampled {value!r}"
    step = entry.get("step", 1 if integer else None)
    if step is not None and entry.get("sampling") != "log":
        reference = bounds[0] if bounds is not None else 0
        steps = (value - reference) / step
        assert abs(steps - round(steps)) < 1e-6, f"{name}: {value!r} is not {reference} + k * {step}"


def check_config(generated: GeneratedSpace, config: Mapping[str, Any], calls: list[Call] | None = None) -> None:
    """Everything the model config must satisfy for ``generated``; ``calls`` are the logged callable calls."""
    space = generated.space
    expected: set[str] = set()
    for name, entry in space.items():
        only = _raw(entry.get("only")) if isinstance(entry, dict) else None
        if only is None or only[1](*(config.get(d) for d in only[0])):
            expected.add(name)
    assert set(config) == expected, f"keys {sorted(config)} != expected {sorted(expected)}"

    for name in expected:
        entry, value = space[name], config[name]
        if not isinstance(entry, dict):
            assert value is entry, f"fixed {name}: {value!r} is not {entry!r}"
            continue
        for key in ("bounds", "values"):
            conditional = _raw(entry.get(key))
            if conditional is not None:
                result = conditional[1](*(config.get(d) for d in conditional[0]))
                break
        else:
            result = entry.get("bounds") if entry.get("type") == "range" else entry.get("values")
        if entry.get("type") == "choice":
            assert any(same(value, option) for option in result), f"{name}: {value!r} not one of {result!r}"
        else:
            check_range(name, value, entry, result)

    for owner, key, args in calls or []:
        names = space[owner][key][0]
        seen = tuple(config.get(d) for d in names)
        assert all(same(a, b) for a, b in zip(args, seen, strict=True)), (
            f"{owner}[{key!r}] got {args!r}, the config has {dict(zip(names, seen, strict=True))!r}"
        )
    called = {(owner, key) for owner, key, _ in calls or []}
    for name in expected:
        entry = space[name]
        for key in ("bounds", "values"):
            if isinstance(entry, dict) and _raw(entry.get(key)) is not None:
                assert calls is None or (name, key) in called, f"{name}[{key!r}] was never called"
