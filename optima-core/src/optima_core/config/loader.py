"""Load a run-config (and an optional defaults file) from Python files and merge them into a :class:`RunConfig`.

Precedence: the run-config's values, then the ``--defaults`` file's, then the built-in defaults; derived defaults
(``ASHA_max_t`` = ``max_epochs``) are resolved after merging, so they follow the values actually used.
Only plain values count as parameters: modules, functions and classes at the top of a run-config are code
(hooks, helpers, imports), not settings.

Each file is read once and its text kept (:attr:`RunConfig.text`): the output folder's copy, the recorded SHA-256
and the trial workers (which execute that text, never the file again) all use what the run started with.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import sys
import traceback
import types
from pathlib import Path
from typing import Any

from optima_core.config.parameters import FUNCTION_PARAMETERS, PARAMETERS, PARAMETERS_BY_NAME, Derived, defaults
from optima_core.config.problems import ConfigError

_counter = itertools.count()

#: The origin :attr:`RunConfig.sources` gives a value set from Python on the loaded run-config.
SET_IN_PYTHON = "set in Python"


class RunConfig:
    """The resolved run-config: every parameter's value, with attribute access like the original's module.

    Attributes the run-config module defines beyond the parameters (helper constants, functions) are reachable
    too, so hook implementations written for the original (``run_config.some_constant``) keep working.
    """

    def __init__(
        self,
        values: dict[str, Any],
        *,
        module: types.ModuleType | None = None,
        path: Path | None = None,
        defaults_path: Path | None = None,
        defaults_module: types.ModuleType | None = None,
        sources: dict[str, str] | None = None,
        text: str | None = None,
        defaults_text: str | None = None,
    ) -> None:
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "module", module)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "defaults_path", defaults_path)
        object.__setattr__(self, "defaults_module", defaults_module)
        object.__setattr__(self, "sources", dict(sources or {}))
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "defaults_text", defaults_text)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        module = object.__getattribute__(self, "module")
        if module is not None and not name.startswith("__") and hasattr(module, name):
            return getattr(module, name)
        raise AttributeError(f"the run-config has no parameter or attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value
        self.sources[name] = SET_IN_PYTHON

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def with_overrides(self, overrides: dict[str, Any]) -> RunConfig:
        """A copy with some values replaced (the module, paths and texts are shared)."""
        return RunConfig(
            {**self._values, **overrides},
            module=self.module,
            path=self.path,
            defaults_path=self.defaults_path,
            defaults_module=self.defaults_module,
            sources={**self.sources, **dict.fromkeys(overrides, "override")},
            text=self.text,
            defaults_text=self.defaults_text,
        )

    def as_dict(self) -> dict[str, Any]:
        """Every parameter with its resolved value."""
        return dict(self._values)

    def __repr__(self) -> str:
        return f"RunConfig({self.path or '<in memory>'})"


def _load_module(path: Path, role: str, text: str | None) -> tuple[types.ModuleType, str]:
    """Execute ``text`` (read from ``path`` when None) as a new module; returns the module and the text."""
    if text is None:
        if not path.is_file():
            raise ConfigError(f"The {role} '{path}'", [f"file not found (looked in {path.resolve().parent})"])
        try:
            text = importlib.util.decode_source(path.read_bytes())
        except (OSError, SyntaxError, UnicodeDecodeError) as error:
            raise ConfigError(f"The {role} '{path}'", [f"cannot be read: {error}"]) from error
    module_name = f"optima_run_config_{next(_counter)}" if role == "run-config" else f"optima_defaults_{next(_counter)}"
    spec = importlib.util.spec_from_loader(module_name, loader=None, origin=str(path))
    if spec is None:
        raise ConfigError(f"The {role} '{path}'", ["is not a Python file that can be imported"])
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    sys.modules[module_name] = module  # classes defined in it must be picklable by reference
    if role == "run-config":
        from optima_core.plugins.manager import import_installed_plugins

        import_installed_plugins()
    try:
        exec(compile(text, str(path), "exec"), module.__dict__)  # a run-config is Python code, run as such
    except BaseException as error:
        sys.modules.pop(module_name, None)
        if isinstance(error, KeyboardInterrupt):
            raise
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)]
        where = f" (line {frames[-1].lineno})" if frames else ""
        if isinstance(error, SyntaxError) and error.lineno:
            where = f" (line {error.lineno})"
        raise ConfigError(
            f"The {role} '{path}'", [f"could not be executed{where}: {type(error).__name__}: {error}"]
        ) from error
    return module, text


def setting_names(module: types.ModuleType) -> dict[str, Any]:
    """Top-level names of a config module that are plain values (candidates for parameters)."""
    found = {}
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        if name in FUNCTION_PARAMETERS and inspect.isroutine(value):
            found[name] = value
            continue
        if inspect.ismodule(value) or inspect.isclass(value) or inspect.isroutine(value) or callable(value):
            continue
        found[name] = value
    return found


def load_module(path: str | Path, role: str = "run-config") -> types.ModuleType:
    """Execute a config file and return its module; a failing file raises :class:`ConfigError`."""
    return _load_module(Path(path), role, None)[0]


def resolve(
    settings: dict[str, Any],
    defaults_settings: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge run-config settings over defaults-file settings over built-in defaults; resolve derived defaults.

    Returns the values of all known parameters plus where each came from ('run-config', 'defaults file',
    'built-in', 'derived'). Unknown names are left out (the validator reports them).
    """
    values: dict[str, Any] = defaults()
    sources = {name: "built-in" for name in values}
    for layer, origin in ((defaults_settings or {}, "defaults file"), (settings, "run-config")):
        for name, value in layer.items():
            if name in PARAMETERS_BY_NAME:
                values[name] = value
                sources[name] = origin
    for parameter in PARAMETERS:
        if isinstance(parameter.default, Derived) and parameter.name not in values:
            values[parameter.name] = values.get(parameter.default.source)
            sources[parameter.name] = f"derived from {parameter.default.source}"
        if parameter.required and parameter.name not in values:
            values[parameter.name] = None
            sources[parameter.name] = "missing"
    return values, sources


def load_run_config(
    path: str | Path,
    defaults_path: str | Path | None = None,
    *,
    text: str | None = None,
    defaults_text: str | None = None,
) -> RunConfig:
    """Load and merge (without validating: see :func:`optima_core.config.validation.validate`).

    ``text`` / ``defaults_text``: the files' content as a run started with (a snapshot), executed instead of
    reading the files again.
    """
    module, text = _load_module(Path(path), "run-config", text)
    defaults_module = None
    if defaults_path:
        defaults_module, defaults_text = _load_module(Path(defaults_path), "defaults file", defaults_text)
    values, sources = resolve(setting_names(module), setting_names(defaults_module) if defaults_module else None)
    return RunConfig(
        values,
        module=module,
        path=Path(path),
        defaults_path=Path(defaults_path) if defaults_path else None,
        defaults_module=defaults_module,
        sources=sources,
        text=text,
        defaults_text=defaults_text if defaults_path else None,
    )
