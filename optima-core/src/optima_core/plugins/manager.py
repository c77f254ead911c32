"""Build the plugin manager: built-ins, installed plugins (entry-point group ``optima``), then the run-config.

Every entry point is loaded in its own ``try``: a plugin that fails to import or to register is recorded with its
error and shown by ``optima plugins``; it never takes the CLI down. Environment switches:

* ``OPTIMA_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point or distribution name before they are imported.
* ``OPTIMA_RAISE_PLUGIN_ERRORS=1`` re-raises load errors instead of recording them (for plugin authors).

There is no global manager: each ``optima`` command (and each test) builds a fresh one with
:func:`create_plugin_manager`.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import os
import traceback
import types
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from optima_core import __version__, hookspecs
from optima_core.errors import PluginError
from optima_core.plugins.descriptors import (
    BackendDescriptor,
    ClusterDescriptor,
    Descriptor,
    EvaluatorDescriptor,
    PlotDescriptor,
)
from optima_core.plugins.hooks import Hooks
from optima_core.plugins.runconfig import RUN_CONFIG_PLUGIN_NAME, RunConfigHooks, build_run_config_plugin

ENTRY_POINT_GROUP = "optima"
DISABLE_ENV = "OPTIMA_DISABLE_PLUGINS"
RAISE_ENV = "OPTIMA_RAISE_PLUGIN_ERRORS"

#: The core's own plugins, registered like any other (first, so everything else can override them).
BUILTIN_PLUGINS: tuple[str, ...] = (
    "optima_core.builtin.plugin",
    "optima_core.inputs.plugin",
    "optima_core.variable_selection.plugin",
)

REGISTRATION_HOOKS: dict[str, type[Descriptor]] = {
    "optima_register_backends": BackendDescriptor,
    "optima_register_clusters": ClusterDescriptor,
    "optima_register_variable_importance_evaluators": EvaluatorDescriptor,
    "optima_register_plots": PlotDescriptor,
}


@dataclass
class PluginRecord:
    """What ``optima plugins`` shows for one plugin."""

    name: str
    distribution: str
    version: str
    status: str  # "active", "disabled" or "failed"
    origin: str  # "builtin", "entry point" or "run-config"
    error: str = ""
    hooks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _env_list(variable: str) -> set[str]:
    return {item.strip() for item in os.environ.get(variable, "").split(",") if item.strip()}


def _env_flag(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in {"1", "true", "yes", "on"}


class OptimaPluginManager:
    """pluggy's manager plus the bookkeeping OPTIMA needs: records, named registries, the run-config plugin."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.records: list[PluginRecord] = []
        self.run_config_hooks: RunConfigHooks | None = None
        self._registries: dict[str, dict[str, Descriptor]] | None = None
        self._registry_errors: list[str] = []
        self._replaced: dict[str, dict[str, str]] = {}

    # -- registration ---------------------------------------------------------------------------------------

    def _hooks_of(self, plugin: object) -> list[str]:
        return sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])

    def register_builtin(self, module_name: str) -> None:
        """Register one of the core's built-in plugin modules (errors here are bugs and propagate)."""
        module = importlib.import_module(module_name)
        self.pm.register(module, name=module_name)
        self.records.append(
            PluginRecord(module_name, "optima-core", __version__, "active", "builtin", hooks=self._hooks_of(module))
        )
        self._registries = None

    def load_entry_points(self, entry_points: Iterable[metadata.EntryPoint] | None = None) -> None:
        """Load every plugin of the ``optima`` entry-point group, each in its own ``try``."""
        blocked = _env_list(DISABLE_ENV)
        reraise = _env_flag(RAISE_ENV)
        seen: set[tuple[str, str]] = set()
        if entry_points is None:
            entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in entry_points:
            dist_name = ep.dist.name if ep.dist is not None else "?"
            version = ep.dist.version if ep.dist is not None else "?"
            if (dist_name, ep.name) in seen:  # the same distribution found twice on sys.path
                continue
            seen.add((dist_name, ep.name))
            if ep.name in blocked or dist_name in blocked:
                self.pm.set_blocked(ep.name)
                self.records.append(
                    PluginRecord(
                        ep.name, dist_name, version, "disabled", "entry point", error=f"disabled by {DISABLE_ENV}"
                    )
                )
                continue
            record = PluginRecord(ep.name, dist_name, version, "active", "entry point")
            self.records.append(record)
            plugin: object = None
            try:
                plugin = ep.load()
                self.pm.register(plugin, name=ep.name)
                self._reject_unknown_hooks(ep.name, plugin)
                record.hooks = self._hooks_of(plugin)
            except Exception as error:
                if reraise:
                    raise
                record.status = "failed"
                record.error = f"{type(error).__name__}: {error}".strip()
                record.hooks = []
                # Only undo this entry point's own registration: the name may belong to another plugin (two
                # distributions with the same entry-point name), which must stay registered.
                if plugin is not None and self.pm.get_plugin(ep.name) is plugin:
                    self.pm.unregister(name=ep.name)
        self._registries = None

    def _reject_unknown_hooks(self, name: str, plugin: object) -> None:
        """Fail a plugin that implements hooks nobody declared (usually a typo), naming the closest real hook."""
        # Only declared hooks: registering ``plugin`` has just added a caller for each of its unknown hooks too.
        known = [n for n in dir(self.pm.hook) if not n.startswith("_") and getattr(self.pm.hook, n).spec is not None]
        unknown = [caller.name for caller in self.pm.get_hookcallers(plugin) or [] if caller.spec is None]
        if unknown:
            self.pm.unregister(plugin)
            hints = []
            for hook in unknown:
                close = difflib.get_close_matches(hook, known, n=1)
                hints.append(f"'{hook}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
            raise PluginError(f"plugin '{name}' implements unknown hook(s): {', '.join(hints)}")

    def register_run_config(self, module: types.ModuleType) -> RunConfigHooks:
        """Register the run-config module as the highest-priority plugin and return what it provides."""
        hooks = build_run_config_plugin(module)
        if self.pm.get_plugin(RUN_CONFIG_PLUGIN_NAME) is not None:
            self.pm.unregister(name=RUN_CONFIG_PLUGIN_NAME)
            self.records = [r for r in self.records if r.origin != "run-config"]
        self.pm.register(hooks.plugin, name=RUN_CONFIG_PLUGIN_NAME)
        self.run_config_hooks = hooks
        self._registries = None
        self.records.append(
            PluginRecord(
                RUN_CONFIG_PLUGIN_NAME,
                getattr(module, "__file__", None) or module.__name__,
                "",
                "active",
                "run-config",
                hooks=list(hooks.provided),
            )
        )
        return hooks

    def check_pending(self) -> None:
        """Raise if any registered plugin implements a hook that has no specification."""
        self.pm.check_pending()

    # -- named registries ---------------------------------------------------------------------------------------

    def _collect(self) -> dict[str, dict[str, Descriptor]]:
        """Call every registration hook once; a plugin whose registration fails is unregistered as a whole."""
        if self._registries is not None:
            return self._registries
        offered: list[tuple[str, str, Descriptor]] = []  # (hook, plugin name, descriptor), in registration order
        failed: dict[str, str] = {}
        for hook_name, expected in REGISTRATION_HOOKS.items():
            caller = getattr(self.pm.hook, hook_name)
            for impl in caller.get_hookimpls():  # pluggy lists implementations in registration order
                if impl.plugin_name in failed:
                    continue
                try:
                    result = impl.function()
                except Exception as error:  # noqa: BLE001 - reported like an import failure
                    failed[impl.plugin_name] = f"{hook_name} raised {type(error).__name__}: {error}"
                    continue
                if result is not None and not isinstance(result, (list, tuple)):
                    failed[impl.plugin_name] = (
                        f"{hook_name} returned {result!r}, expected a list of {expected.__name__} objects"
                    )
                    continue
                wrong = [d for d in result or [] if not isinstance(d, expected)]
                if wrong:
                    failed[impl.plugin_name] = (
                        f"{hook_name} returned {wrong[0]!r}, expected {expected.__name__} objects"
                    )
                    continue
                offered.extend((hook_name, impl.plugin_name, d) for d in result or [])
        for plugin_name, message in failed.items():
            self._mark_failed(plugin_name, message)
        # Per hook and name: the plain registration and the explicit replacement (PlotDescriptor(replaces=True)).
        plain: dict[str, dict[str, Descriptor]] = {hook: {} for hook in REGISTRATION_HOOKS}
        replacing: dict[str, dict[str, Descriptor]] = {hook: {} for hook in REGISTRATION_HOOKS}
        errors: list[str] = []
        for hook_name, plugin_name, descriptor in offered:
            if plugin_name in failed:
                continue
            replaces = bool(getattr(descriptor, "replaces", False))
            registry = (replacing if replaces else plain)[hook_name]
            provider = self._provider_label(plugin_name)
            if descriptor.name in registry:
                errors.append(
                    f"two plugins register a {descriptor.kind} named '{descriptor.name}'"
                    f"{' as a replacement' if replaces else ''}: {registry[descriptor.name].provider} and {provider}"
                )
                continue
            registry[descriptor.name] = _with_provider(descriptor, provider)
        registries = {hook: {**plain[hook], **replacing[hook]} for hook in REGISTRATION_HOOKS}
        self._replaced = {
            hook: {name: plain[hook][name].provider for name in replacing[hook] if name in plain[hook]}
            for hook in REGISTRATION_HOOKS
        }
        self._registries = registries
        self._registry_errors = errors
        return registries

    def _provider_label(self, plugin_name: str) -> str:
        for record in self.records:
            if record.name == plugin_name:
                return f"'{record.name}' ({record.distribution})"
        return f"'{plugin_name}'"

    def _mark_failed(self, plugin_name: str, error: str) -> None:
        """Record the failure and unregister the plugin, so none of its hooks stays active."""
        plugin = self.pm.get_plugin(plugin_name)
        if plugin is not None:
            self.pm.unregister(plugin)
        for record in self.records:
            if record.name == plugin_name:
                record.hooks = []
                record.status = "failed"
                record.error = error

    def components(self) -> dict[str, dict[str, Descriptor]]:
        """Every registered component by kind ('backends', 'clusters', ...), without raising on conflicts."""
        registries = self._collect()
        return {_kind_of(hook): dict(reg) for hook, reg in registries.items()}

    def replaced(self) -> dict[str, dict[str, str]]:
        """By kind, the names whose registration another plugin explicitly replaced: name -> the replaced provider."""
        self._collect()
        return {_kind_of(hook): dict(names) for hook, names in self._replaced.items()}

    @property
    def registry_errors(self) -> list[str]:
        """Conflicts found while collecting named descriptors (empty when all names are unique)."""
        self._collect()
        return list(self._registry_errors)

    def _registry(self, hook_name: str) -> dict[str, Descriptor]:
        registries = self._collect()
        if self._registry_errors:
            raise PluginError("; ".join(self._registry_errors))
        return dict(registries[hook_name])

    def backends(self) -> dict[str, BackendDescriptor]:
        return self._registry("optima_register_backends")  # type: ignore[return-value]

    def clusters(self) -> dict[str, ClusterDescriptor]:
        return self._registry("optima_register_clusters")  # type: ignore[return-value]

    def evaluators(self) -> dict[str, EvaluatorDescriptor]:
        return self._registry("optima_register_variable_importance_evaluators")  # type: ignore[return-value]

    def plots(self) -> dict[str, PlotDescriptor]:
        return self._registry("optima_register_plots")  # type: ignore[return-value]

    def descriptor(self, kind: str, name: str) -> Descriptor:
        """Look a component up by name; an unknown name raises an error listing the valid ones."""
        hook_name = {
            "backend": "optima_register_backends",
            "cluster": "optima_register_clusters",
            "evaluator": "optima_register_variable_importance_evaluators",
            "plot": "optima_register_plots",
        }[kind]
        registry = self._registry(hook_name)
        if name not in registry:
            available = ", ".join(repr(n) for n in sorted(registry)) or "none"
            note = self.failed_plugins_note()
            raise PluginError(
                f"no {kind} named '{name}' is registered; available: {available}{'; ' if note else ''}{note}"
            )
        return registry[name]

    def unloadable_components(self) -> list[str]:
        """Why each registered component whose ``"module:attr"`` target cannot be loaded fails (nothing is imported:
        modules are located and attributes looked up in their source, see :meth:`Descriptor.find_problem`)."""
        problems = (
            d.find_problem(import_target=False) for registry in self._collect().values() for d in registry.values()
        )
        return [p for p in problems if p is not None]

    def failed_plugins_note(self) -> str:
        """For a message about a requested name that is missing: the plugins that failed to load ('' if none).

        A plugin that failed to import registered nothing, so which names it would provide is unknown: each is named
        as a possible provider, with its error.
        """
        failed = [r for r in self.records if r.status == "failed"]
        return "; ".join(
            f"it may be provided by plugin '{r.name}' ({r.distribution}), which failed to load: {r.error}"
            for r in failed
        )

    # -- introspection ----------------------------------------------------------------------------------------

    def plugin_behind(self, error: BaseException) -> str | None:
        """The plugin whose code raised ``error`` (its provider label and where), or ``None`` if no plugin did.

        The innermost frame of the traceback that runs one of a plugin's hook implementations, or code of the
        package an installed plugin (or the module the run-config) was loaded from, names the plugin. The core's
        built-ins are never named: an error raised there is a bug.
        """
        by_code: dict[types.CodeType, str] = {}
        by_module: dict[str, str] = {}
        for record in self.records:
            plugin = self.pm.get_plugin(record.name)
            if record.origin == "builtin" or plugin is None:
                continue
            for caller in self.pm.get_hookcallers(plugin) or []:
                for impl in caller.get_hookimpls():
                    if impl.plugin is plugin and hasattr(impl.function, "__code__"):
                        by_code[impl.function.__code__] = record.name
            by_module[_home_module(plugin)] = record.name
        for frame, line in reversed(list(traceback.walk_tb(error.__traceback__))):
            module = str(frame.f_globals.get("__name__", ""))
            name = by_code.get(frame.f_code) or by_module.get(module) or by_module.get(module.partition(".")[0])
            if name is not None:
                return f"{self._provider_label(name)} in {frame.f_code.co_name} ({frame.f_code.co_filename}:{line})"
        return None

    def hook_providers(self, hook_name: str) -> list[str]:
        """Plugins implementing ``hook_name``, in the order pluggy asks them (the first one wins).

        Wrappers (which pass the call on, e.g. to add run-config values) provide no result and are left out.
        """
        caller = getattr(self.pm.hook, hook_name)
        return [impl.plugin_name for impl in reversed(caller.get_hookimpls()) if not (impl.wrapper or impl.hookwrapper)]

    @property
    def hooks(self) -> Hooks:
        """The typed facade over pluggy's ``pm.hook``."""
        return Hooks(self.pm.hook)


def _kind_of(hook_name: str) -> str:
    """'optima_register_variable_importance_evaluators' -> 'evaluators'."""
    return hook_name.removeprefix("optima_register_").replace("variable_importance_", "")


def _home_module(plugin: object) -> str:
    """Where a plugin's code lives: a module plugin's package, the run-config's module, a plugin class's package."""
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__.partition(".")[0]
    return getattr(plugin, "module_name", None) or type(plugin).__module__.partition(".")[0]


def _with_provider(descriptor: Descriptor, provider: str) -> Descriptor:
    from dataclasses import replace

    return replace(descriptor, provider=provider)


def import_installed_plugins() -> None:
    """Import the module of every installed plugin that is not disabled, ignoring any that fails.

    Done before a run-config is executed, so that what a plugin sets up when it is imported (the Lightning plugin's
    lean imports of its framework) is in place when the run-config imports that framework. A plugin that fails is
    reported when :func:`create_plugin_manager` loads it.
    """
    blocked = _env_list(DISABLE_ENV)
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist_name = ep.dist.name if ep.dist is not None else "?"
        if ep.name in blocked or dist_name in blocked:
            continue
        with contextlib.suppress(Exception):
            importlib.import_module(ep.module)


def create_plugin_manager(
    *,
    run_config_module: types.ModuleType | None = None,
    load_entry_points: bool = True,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
) -> OptimaPluginManager:
    """Build a fresh manager: built-ins, then installed plugins, then (optionally) the run-config."""
    manager = OptimaPluginManager()
    for module_name in BUILTIN_PLUGINS:
        manager.register_builtin(module_name)
    if load_entry_points:
        manager.load_entry_points(entry_points)
    if run_config_module is not None:
        manager.register_run_config(run_config_module)
    return manager
