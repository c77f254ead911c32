"""What :func:`optima_core.api.run` accepts as its run-config: a file path, an imported module, or a dict.

A path or a module is loaded exactly as ``optima run CONFIG`` loads the file (a module by its ``__file__``). A dict
of run-config values is first written as Python text (:func:`dict_to_text`) and that text is executed as the
run-config: it is what validation checks, what the trials execute, what the output folder keeps as
``run_config.py`` and what ``--resume`` compares, exactly as for a file. Executing ``run_config.py`` gives the same
values again: plain values are written as literals, functions and classes by their import path, and any other
object (a metric or a Tune callback instance) as a pickle of it, with its ``repr`` as a comment. A dict holds
parameters only; hooks are functions or classes *defined in* a run-config, so they need a file or module.
"""

from __future__ import annotations

import base64
import importlib
import keyword
import math
import os
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optima_core.config.loader import RunConfig, load_run_config
from optima_core.config.problems import ConfigError, Problem
from optima_core.errors import OptimaUserError

#: The path a run-config given as a dict is known by (in messages and in the run's manifest).
DICT_CONFIG_PATH = Path("<run-config dict>")

_HEADER = (
    "# The run-config given to optima_core.api.run as a dict, written as Python: executing it gives the same values.\n"
)
_SCALARS = (str, bytes, bool, int, type(None))


class _UnwritableError(Exception):
    """A value that cannot be written as Python text."""


def _import_path(value: Any) -> str | None:
    """``module.qualname`` of a function or class that importing finds again, else ``None``."""
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return f"{module}.{qualname}" if found is value else None


class _Writer:
    """Python source for values; collects the modules the expressions import."""

    def __init__(self) -> None:
        self.imports: set[str] = set()

    def source(self, value: Any) -> str:
        if isinstance(value, float):
            return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
        if isinstance(value, _SCALARS):
            return repr(value)
        if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", None) == 0:
            return self.source(value.item())
        if type(value) in (list, tuple, set, frozenset):
            items = [self.source(v) for v in value]
            if isinstance(value, list):
                return f"[{', '.join(items)}]"
            if isinstance(value, tuple):
                return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
            body = ", ".join(sorted(items))
            return f"{type(value).__name__}([{body}])"
        if type(value) is dict:
            return "{" + ", ".join(f"{self.source(k)}: {self.source(v)}" for k, v in value.items()) + "}"
        if isinstance(value, (types.FunctionType, type, types.BuiltinFunctionType)) and _import_path(value):
            self.imports.add("importlib")
            return f"importlib.import_module({value.__module__!r}).{value.__qualname__}"
        return self._pickled(value)

    def _pickled(self, value: Any) -> str:
        # Ray's cloudpickle writes what only this process knows (a lambda, a class defined in a notebook) by value,
        # so that the trial workers, which execute the text too, can load it; plain ``pickle.loads`` reads it.
        from ray import cloudpickle

        try:
            payload = cloudpickle.dumps(value, protocol=4)
        except Exception as error:
            raise _UnwritableError(f"{type(error).__name__}: {error}") from error
        self.imports.update(("base64", "pickle"))
        text = base64.b64encode(payload).decode("ascii")
        return f"pickle.loads(base64.b64decode({text!r}))"


def dict_to_text(values: Mapping[str, Any]) -> str:
    """The run-config ``values`` as Python source; :class:`ConfigError` names every key it cannot write."""
    from optima_core.plugins.runconfig import CLASS_HOOKS, run_config_hook_names

    hooks = set(run_config_hook_names()) | set(CLASS_HOOKS)
    writer = _Writer()
    lines: list[str] = []
    problems: list[Problem] = []
    for key, value in values.items():
        subject = f"config[{key!r}]"
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
            problems.append(Problem(subject, value, "a run-config parameter name (a Python identifier)"))
            continue
        if key in hooks:
            problems.append(
                Problem(
                    subject,
                    value,
                    "a parameter value",
                    f"'{key}' is a hook; define it in a run-config file or module and pass that instead of a dict",
                )
            )
            continue
        try:
            expression = writer.source(value)
        except _UnwritableError as error:
            problems.append(
                Problem(
                    subject,
                    value,
                    "a value run_config.py can hold: plain values, importable functions and classes, or objects "
                    "that pickle",
                    str(error),
                )
            )
            continue
        if expression.startswith("pickle.loads"):
            shown = re.sub(r" at 0x[0-9a-fA-F]+", "", " ".join(repr(value).split()))  # the same text every time
            lines.append(f"# {key}: {shown[:200]}")
        lines.append(f"{key} = {expression}")
    if problems:
        raise ConfigError(f"The run-config '{DICT_CONFIG_PATH}'", problems)
    imports = [f"import {name}\n" for name in sorted(writer.imports)]
    return _HEADER + "".join(imports) + ("\n" if imports else "") + "\n".join(lines) + "\n"


def load_config(config: Any, defaults: str | None = None) -> RunConfig:
    """The :class:`RunConfig` of a path, an imported run-config module, or a dict of values (not yet validated)."""
    if isinstance(config, (str, os.PathLike)):
        return load_run_config(Path(config), defaults)
    if isinstance(config, types.ModuleType):
        file = getattr(config, "__file__", None)
        if not file or not str(file).endswith(".py"):
            raise OptimaUserError(
                f"the run-config module {config.__name__!r} has no .py file (__file__ = {file!r}): expected a module "
                "imported from a run-config file, or pass a dict of values"
            )
        return load_run_config(Path(file), defaults)
    if isinstance(config, Mapping):
        return load_run_config(DICT_CONFIG_PATH, defaults, text=dict_to_text(config))
    raise OptimaUserError(
        f"config = {type(config).__name__} {config!r:.80}: expected the path of a run-config file, an imported "
        "run-config module, or a dict of run-config values"
    )
