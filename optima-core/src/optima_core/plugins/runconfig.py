"""Turn a run-config module into the highest-priority plugin.

In the original OPTIMA a run-config overrides built-in behaviour by defining a function or class with a hook's
name. Here that module becomes a pluggy plugin, registered last and ``tryfirst``, so it wins over built-ins and
third-party plugins alike. Two details make this more than ``pm.register(module)``:

* pluggy never passes keyword-only or defaulted arguments to an implementation, while the reference's
  signatures use both (``build_model(model_config, *, input_handler, train_data)``,
  ``get_inputs(..., disable_printing=False)``). Each run-config function is therefore wrapped in an adapter
  whose signature is the hookspec's, and which calls the user's function with the arguments it accepts.
* Only objects *defined in* the run-config count. A name merely imported into it (``from torch.utils.data import
  DataLoader``) is not a hook implementation and is reported by ``optima check`` as ignored.

An exception a run-config function raises (``get_inputs`` cannot open its file) is the user's to fix: it is
re-raised as :class:`~optima_core.errors.UserCodeError` naming the hook, the exception and the run-config's
file:line, so the CLI shows one line instead of a traceback through pluggy.
"""

from __future__ import annotations

import inspect
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optima_core import hookspecs
from optima_core.errors import OptimaUserError, UserCodeError
from optima_core.hookspecs import hookimpl

#: Hooks that are given by a class (the run-config defines a class of that name).
CLASS_HOOKS = frozenset({"InputHandler", "LitModel", "LightningDataset", "DataLoader", "DataModule"})
#: Hooks the reference documents as called with positional arguments (user parameter names may differ).
POSITIONAL_HOOKS = frozenset({"fit_function"})
#: Hooks whose result is a side effect: a run-config function returning ``None`` has still handled the call.
SIDE_EFFECT_HOOKS = frozenset({"plot_input_data"})

RUN_CONFIG_PLUGIN_NAME = "run-config"


def run_config_hook_names() -> tuple[str, ...]:
    """Names a run-config may define to replace built-in behaviour: every hook except the plugin-only ``optima_*``
    hooks (registration, Tune callbacks: a run-config sets the parameter ``tune_callbacks`` instead)."""
    return tuple(
        name
        for name, obj in vars(hookspecs).items()
        if callable(obj) and hasattr(obj, f"{hookspecs.PROJECT_NAME}_spec") and not name.startswith("optima_")
    )


def hook_argnames(name: str) -> tuple[str, ...]:
    """The argument names of hook ``name`` as declared in :mod:`optima_core.hookspecs`."""
    return tuple(inspect.signature(getattr(hookspecs, name)).parameters)


@dataclass(frozen=True)
class HookDefinitionProblem:
    """A run-config object with a hook's name that cannot serve as that hook."""

    hook: str
    message: str


@dataclass(frozen=True)
class RunConfigHooks:
    """What a run-config module provides: the plugin to register, and what was found along the way."""

    plugin: object
    provided: tuple[str, ...]
    ignored_imports: tuple[str, ...]
    problems: tuple[HookDefinitionProblem, ...]


def _defined_in(obj: Any, module: types.ModuleType) -> bool:
    return getattr(obj, "__module__", None) == module.__name__


def _signature_text(name: str) -> str:
    return f"{name}({', '.join(hook_argnames(name))})"


def _make_caller(name: str, function: Callable[..., Any]) -> tuple[Callable[[dict[str, Any]], Any] | None, str]:
    """Return ``call(arguments) -> result`` that invokes ``function`` with what it accepts, or an error text."""
    spec_names = hook_argnames(name)
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return (lambda arguments: function(**arguments)), ""

    takes_var_keyword = any(p.kind is p.VAR_KEYWORD for p in parameters)
    takes_var_positional = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p.name for p in parameters if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    if name in POSITIONAL_HOOKS:
        count = len(spec_names) if takes_var_positional else min(len(positional), len(spec_names))
        if len([p for p in positional if p.default is p.empty]) > len(spec_names) or any(
            p.kind is p.KEYWORD_ONLY and p.default is p.empty for p in parameters
        ):
            return None, f"it takes more required arguments than the {len(spec_names)} the hook passes"
        return (lambda arguments: function(*[arguments[n] for n in spec_names[:count]])), ""

    if any(p.kind is p.POSITIONAL_ONLY for p in parameters):
        return None, "it has positional-only parameters ('/'), but the hook passes its arguments by name"
    if takes_var_positional and not positional and not takes_var_keyword:
        return None, f"it only takes *args, but the hook passes its arguments by name: {_signature_text(name)}"
    missing = [n for n in required if n not in spec_names]
    if missing:
        return None, (
            f"it requires argument(s) {', '.join(repr(m) for m in missing)} that the hook does not pass; "
            f"the hook passes {_signature_text(name)}"
        )
    if takes_var_keyword:
        return (lambda arguments: function(**arguments)), ""
    accepted = {p.name for p in parameters} & set(spec_names)
    return (lambda arguments: function(**{k: v for k, v in arguments.items() if k in accepted})), ""


def _adapter(name: str, call: Callable[[dict[str, Any]], Any]) -> Callable[..., Any]:
    """Build a function whose parameters are exactly the hookspec's, so pluggy passes every argument."""
    argnames = hook_argnames(name)
    mapping = ", ".join(f"{a!r}: {a}" for a in argnames)
    source = f"def {name}({', '.join(argnames)}):\n    return _call({{{mapping}}})\n"
    namespace: dict[str, Any] = {"_call": call}
    exec(compile(source, f"<run-config adapter for {name}>", "exec"), namespace)
    return hookimpl(tryfirst=True)(namespace[name])


def _class_adapter(name: str, cls: type) -> Callable[[], type]:
    def provide() -> type:
        return cls

    provide.__name__ = name
    return hookimpl(tryfirst=True)(provide)


class _RunConfigPlugin:
    """Container for the adapters; pluggy finds them as marked attributes."""

    def __init__(self, module_name: str) -> None:
        self.module_name = module_name

    def __repr__(self) -> str:
        return f"<run-config plugin {self.module_name}>"


def build_run_config_plugin(module: types.ModuleType) -> RunConfigHooks:
    """Inspect ``module`` and build its plugin; problems are returned, not raised, so all can be reported at once."""
    plugin = _RunConfigPlugin(module.__name__)
    provided: list[str] = []
    ignored: list[str] = []
    problems: list[HookDefinitionProblem] = []
    for name in run_config_hook_names():
        obj = module.__dict__.get(name)
        if obj is None:
            continue
        # Imported, not defined here. A plain value (``fit_function = 3``) is not an import: it is checked below.
        if not _defined_in(obj, module) and (callable(obj) or inspect.ismodule(obj)):
            ignored.append(name)
            continue
        if name in CLASS_HOOKS:
            if not inspect.isclass(obj):
                problems.append(HookDefinitionProblem(name, f"'{name}' must be a class, got {type(obj).__name__}"))
                continue
            setattr(plugin, name, _class_adapter(name, obj))
        else:
            if not callable(obj) or inspect.isclass(obj):
                problems.append(
                    HookDefinitionProblem(name, f"'{name}' must be a function {_signature_text(name)}, got {obj!r}")
                )
                continue
            call, error = _make_caller(name, obj)
            if call is None:
                problems.append(HookDefinitionProblem(name, f"function '{name}' cannot serve as the hook: {error}"))
                continue
            call = _reporting_errors(name, call, module)
            if name in SIDE_EFFECT_HOOKS:
                call = _handled_on_none(call)
            setattr(plugin, name, _adapter(name, call))
        provided.append(name)
    return RunConfigHooks(plugin, tuple(provided), tuple(ignored), tuple(problems))


def _handled_on_none(call: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    def handled(arguments: dict[str, Any]) -> Any:
        result = call(arguments)
        return True if result is None else result

    return handled


def _reporting_errors(
    name: str, call: Callable[[dict[str, Any]], Any], module: types.ModuleType
) -> Callable[[dict[str, Any]], Any]:
    """``call``, re-raising what the user's function raises as a :class:`UserCodeError` (OPTIMA's errors pass)."""

    def reporting(arguments: dict[str, Any]) -> Any:
        try:
            return call(arguments)
        except OptimaUserError:
            raise
        except Exception as error:
            raise UserCodeError(
                f"run-config hook '{name}' raised {type(error).__name__}: {error} ({_user_line(error, module)})"
            ) from error

    return reporting


def _user_line(error: BaseException, module: types.ModuleType) -> str:
    """``file:line`` of the deepest frame of ``error`` in the run-config file (its path when no frame is in it)."""
    path = getattr(module, "__file__", None) or module.__name__
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == path]
    return f"{path}:{lines[-1]}" if lines else str(path)
