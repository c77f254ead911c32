"""Meta-tests: every hookspec is documented, exercised by some test, and mirrored by the typed facade."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from optima_core import hookspecs
from optima_core.plugins.hooks import Hooks
from optima_core.plugins.manager import REGISTRATION_HOOKS

TESTS_ROOT = Path(__file__).resolve().parents[1]


def _hookspecs() -> dict[str, object]:
    return {
        name: function
        for name, function in vars(hookspecs).items()
        if callable(function) and hasattr(function, f"{hookspecs.PROJECT_NAME}_spec")
    }


HOOKSPECS = _hookspecs()


def test_there_are_hookspecs() -> None:
    assert len(HOOKSPECS) >= 25
    assert set(REGISTRATION_HOOKS) <= set(HOOKSPECS)


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_hookspec_is_documented(name: str) -> None:
    docstring = inspect.getdoc(HOOKSPECS[name])
    assert docstring, f"hookspec {name} has no docstring"
    assert "Called" in docstring, f"{name}: say when it is called ('Called by/when ...')"
    assert re.search(r"``None``|None\b|[Rr]eturn", docstring), f"{name}: say what it returns / what None means"
    if getattr(HOOKSPECS[name], f"{hookspecs.PROJECT_NAME}_spec").get("firstresult"):
        assert "None" in docstring, f"{name} is firstresult: say what returning None means"


def _test_sources() -> str:
    own = Path(__file__).resolve()
    return "\n".join(path.read_text() for path in sorted(TESTS_ROOT.rglob("test_*.py")) if path.resolve() != own)


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_hookspec_is_exercised_by_a_test(name: str) -> None:
    assert re.search(rf"\b{re.escape(name)}\b", _test_sources()), f"no test under tests/ mentions the hook {name}"


@pytest.mark.parametrize("name", sorted(set(HOOKSPECS) - set(REGISTRATION_HOOKS)))
def test_facade_has_a_method_per_hook_with_the_same_arguments(name: str) -> None:
    method = getattr(Hooks, name, None)
    assert method is not None, f"Hooks has no method {name}"
    parameters = list(inspect.signature(method).parameters.values())[1:]  # without self
    assert [p.name for p in parameters] == list(inspect.signature(HOOKSPECS[name]).parameters)
    assert all(p.kind is p.KEYWORD_ONLY for p in parameters), f"Hooks.{name} must take keyword arguments only"


def test_facade_has_no_method_without_a_hook() -> None:
    methods = {name for name, _ in inspect.getmembers(Hooks, inspect.isfunction) if not name.startswith("_")}
    assert methods == set(HOOKSPECS) - set(REGISTRATION_HOOKS)


def test_hookspec_arguments_carry_no_defaults() -> None:
    """pluggy never passes defaulted arguments to implementations; a default in a hookspec would be a trap."""
    for name, function in HOOKSPECS.items():
        for parameter in inspect.signature(function).parameters.values():
            assert parameter.default is parameter.empty, f"{name}({parameter.name}=...)"
            assert parameter.kind is parameter.POSITIONAL_OR_KEYWORD, f"{name}: {parameter.name} is {parameter.kind}"
