"""Validate a whole run-config before anything expensive starts, reporting every problem at once.

Each problem names the parameter, the value found and what is expected. Checks that need to know what is
installed use the plugin manager when one is given: the backend named by ``model_type`` and the facts its descriptor
states (required frameworks and hooks, the built-in model's scalings and mutatable hyperparameters), the registered
evaluators and the hooks provided. Without a manager these checks are skipped; the core itself names no backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optima_core.config.builtin_model import check_monitor_name, check_search_space, check_top_level_names
from optima_core.config.components import check_components
from optima_core.config.loader import RunConfig, setting_names
from optima_core.config.metric_names import (
    check_metric_reference,
    closest_name,
    composite_names,
    metric_names,
    reported_names,
)
from optima_core.config.parameters import PARAMETERS, PARAMETERS_BY_NAME, Derived
from optima_core.config.problems import ConfigError, Problem
from optima_core.config.search_space import validate_search_space
from optima_core.search.space import mutation_flags, parse_search_space

if TYPE_CHECKING:
    from optima_core.plugins.descriptors import BackendDescriptor
    from optima_core.plugins.manager import OptimaPluginManager

STAGE_FLAGS = ("perform_variable_opt", "perform_main_hyperopt", "perform_PBT_hyperopt")


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    extra_names: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _unknown_names(run_config: RunConfig, report: ValidationReport) -> None:
    known = [p.name for p in PARAMETERS]
    if run_config.module is not None:
        for name, value in setting_names(run_config.module).items():
            if name in PARAMETERS_BY_NAME:
                continue
            close = closest_name(name, known)
            if close:
                report.problems.append(
                    Problem(
                        name,
                        value,
                        "a known parameter",
                        f"unknown parameter; did you mean '{close}'? (name a helper constant of your own '_{name}')",
                    )
                )
            else:
                report.extra_names.append(name)
    defaults_module = getattr(run_config, "defaults_module", None)
    if defaults_module is not None:
        for name, value in setting_names(defaults_module).items():
            if name not in PARAMETERS_BY_NAME:
                close = closest_name(name, known)
                hint = f"did you mean '{close}'?" if close else "a defaults file may only set known parameters"
                report.problems.append(Problem(f"{name} (defaults file)", value, "a known parameter", hint))


def _per_parameter(values: dict[str, Any], report: ValidationReport, sources: dict[str, str]) -> None:
    invalid: set[str] = set()
    for parameter in PARAMETERS:
        value = values.get(parameter.name)
        derived = parameter.default.source if isinstance(parameter.default, Derived) else None
        if derived in invalid and sources.get(parameter.name, "").startswith("derived"):
            continue  # the value was copied from an invalid parameter, which is reported already
        if parameter.required and value is None:
            report.problems.append(
                Problem(parameter.name, "(not set)", "True or False; this parameter is required in every run-config")
            )
            continue
        expected = parameter.check(value)
        if expected is not None:
            invalid.add(parameter.name)
            report.problems.append(Problem(parameter.name, value, expected))


def _cross_parameter(values: dict[str, Any], run_config: RunConfig, report: ValidationReport) -> None:
    add = report.problems.append
    provided = _run_config_hooks(run_config)

    if values["use_testing_dataset"] and not values["use_eventNums_splitting"]:
        val, test = values["validation_fraction"], values["test_fraction"]
        if isinstance(val, (int, float)) and isinstance(test, (int, float)) and val + test >= 1:
            add(
                Problem(
                    "validation_fraction + test_fraction", val + test, "a sum below 1 (events must remain for training)"
                )
            )
    if values["use_eventNums_splitting"] and values["use_testing_dataset"]:
        n, off_val, off_test = (
            values[k]
            for k in ("eventNums_splitting_N", "eventNums_splitting_offset_val", "eventNums_splitting_offset_test")
        )
        if all(isinstance(v, int) for v in (n, off_val, off_test)) and n > 0 and (off_val - off_test) % n == 0:
            add(
                Problem(
                    "eventNums_splitting_offset_test",
                    off_test,
                    f"an offset selecting other events than eventNums_splitting_offset_val={off_val} (mod {n})",
                )
            )

    _check_asha(values, run_config.sources, report)

    bare = metric_names(values)
    composites = composite_names(values)
    known, unprefixed = reported_names(values)  # bare names are reported only with a 'train_' or 'val_' prefix
    if isinstance(values["monitor_name"], str):
        problem = check_metric_reference("monitor_name", values["monitor_name"], known, unprefixed)
        if problem:
            add(problem)
    for key in ("composite_metrics", "overtraining_conditions"):
        entries = values.get(key)
        if not isinstance(entries, (list, tuple)):
            continue
        for index, entry in enumerate(entries):
            if isinstance(entry, (list, tuple)) and len(entry) == 3 and isinstance(entry[1], (list, tuple)):
                for name in entry[1]:
                    if isinstance(name, str):
                        problem = check_metric_reference(f"{key}[{index}] ('{entry[0]}')", name, known, unprefixed)
                        if problem:
                            add(problem)
    duplicates = sorted({n for n in bare + composites if (bare + composites).count(n) > 1})
    for name in duplicates:
        add(Problem("metric names", name, "unique names across native, weighted, custom and composite metrics"))

    var_metric = values["var_metric"]
    if isinstance(var_metric, str) and var_metric != "loss" and var_metric not in bare:
        allowed = ["loss", *bare]
        close = closest_name(var_metric, allowed)
        hint = f"did you mean '{close}'?" if close else ""
        add(
            Problem(
                "var_metric",
                var_metric,
                "'loss' or the name of a native, weighted or custom metric: " + ", ".join(repr(a) for a in allowed),
                hint,
            )
        )

    input_vars = values["input_vars"]
    scaling = values["input_scaling"]
    if isinstance(scaling, dict) and isinstance(input_vars, (list, tuple)):
        for key in scaling:
            if isinstance(key, str) and key not in input_vars and not _is_index_key(key):
                close = closest_name(key, [v for v in input_vars if isinstance(v, str)])
                hint = f"did you mean '{close}'?" if close else "scalings must refer to variables in input_vars"
                add(Problem(f"input_scaling[{key!r}]", key, "a variable listed in input_vars", hint))

    if values["perform_variable_opt"] is True and input_vars is None and "InputHandler" not in provided:
        add(
            Problem(
                "input_vars",
                None,
                "a list of variable names when perform_variable_opt is True "
                "(the selection needs to know the variables), or a run-config InputHandler",
            )
        )

    if values["inputs_file"] is None and not ({"get_inputs", "get_experiment_inputs"} & provided):
        add(
            Problem(
                "inputs_file",
                None,
                "the path of the input data file (or a run-config get_inputs / "
                "get_experiment_inputs that loads the data itself)",
            )
        )
    elif isinstance(values["inputs_file"], str) and not ({"get_inputs", "get_experiment_inputs"} & provided):
        path = Path(values["inputs_file"])
        suffixes = (".pkl", ".pickle", ".parquet", ".pq", ".root")
        if path.suffix.lower() not in suffixes:
            add(
                Problem(
                    "inputs_file",
                    values["inputs_file"],
                    "a file ending in " + ", ".join(suffixes),
                    "or define get_inputs in the run-config to read other formats",
                )
            )
        elif not path.exists():
            add(Problem("inputs_file", values["inputs_file"], f"an existing file (looked in {path.resolve().parent})"))
        tree = values.get("inputs_tree_name")
        if tree is not None and path.suffix.lower() != ".root":
            report.warnings.append(f"inputs_tree_name={tree!r} is ignored: inputs_file is not a ROOT file")
    elif isinstance(values["inputs_file"], dict) and not ({"get_inputs", "get_experiment_inputs"} & provided):
        _check_class_files(values, add)
        if values.get("target_columns") is not None:
            report.warnings.append("target_columns is ignored: with ROOT files per class the classes are the targets")
    if values.get("inputs_cut") is not None and not isinstance(values["inputs_file"], dict):
        add(Problem("inputs_cut", values["inputs_cut"], "no cut unless inputs_file maps class labels to ROOT files"))

    _check_stage_search_space(values, report)


def _check_class_files(values: dict[str, Any], add: Any) -> None:
    """``inputs_file`` as ``{class label: [ROOT file patterns]}``: labels, files and trees (file headers only)."""
    from optima_core.inputs.errors import InputDataError
    from optima_core.inputs.root_inputs import check_class_files

    labels = values["evaluation_class_labels"]
    if not isinstance(labels, (list, tuple)):
        return
    try:
        problems = check_class_files(
            values["inputs_file"], [str(label) for label in labels], values["inputs_tree_name"]
        )
    except InputDataError as error:  # uproot is not installed
        problems = [p for p in error.problems if isinstance(p, Problem)]
    for problem in problems:
        add(problem)


def _check_asha(values: dict[str, Any], sources: dict[str, str], report: ValidationReport) -> None:
    """Ray's ASHA asserts grace_period <= max_t; a grace period no trial reaches never prunes."""
    grace, max_t, epochs = values["ASHA_grace_period"], values["ASHA_max_t"], values["max_epochs"]
    hpo = values["perform_variable_opt"] is True or values["perform_main_hyperopt"] is True
    if not (hpo and values["use_ASHAScheduler"] is True and all(isinstance(v, int) for v in (grace, max_t, epochs))):
        return
    lower = f"lower ASHA_grace_period, e.g. to {max(1, min(max_t, epochs) // 4)}"
    if grace > max_t:
        derived = " (derived from max_epochs)" if sources.get("ASHA_max_t", "").startswith("derived") else ""
        report.problems.append(
            Problem("ASHA_grace_period", grace, f"an integer <= ASHA_max_t = {max_t}{derived}", lower)
        )
    elif grace >= min(max_t, epochs):
        reached = "ASHA_max_t" if grace >= max_t else "max_epochs"
        report.warnings.append(
            f"ASHA_grace_period={grace} >= {reached}={min(max_t, epochs)}: ASHA will never prune a trial ({lower})"
        )


def _is_index_key(key: str) -> bool:
    return all(part.isdigit() for part in key.split("_"))


def _stage_flags_known(values: dict[str, Any]) -> bool:
    """Whether the search space and all perform_* flags have valid types (otherwise they are reported on their own)."""
    return isinstance(values["search_space"], dict) and all(isinstance(values[k], bool) for k in STAGE_FLAGS)


def _check_stage_search_space(values: dict[str, Any], report: ValidationReport) -> None:
    """Without an optimization stage only fixed hyperparameters can be trained."""
    if not _stage_flags_known(values) or any(values[k] for k in STAGE_FLAGS):
        return
    for name, entry in values["search_space"].items():
        if isinstance(entry, dict):
            report.problems.append(
                Problem(
                    f"search_space[{name!r}]",
                    entry,
                    "a fixed value: with all three perform_* flags False only fixed hyperparameters are trained",
                )
            )


def _check_pbt(
    values: dict[str, Any], backend: BackendDescriptor, run_config_hooks: tuple[str, ...], report: ValidationReport
) -> None:
    """Population Based Training needs something to mutate, and mutated entries must not be conditional."""
    if not _stage_flags_known(values) or not values["perform_PBT_hyperopt"]:
        return
    space = parse_search_space(values["search_space"])
    mutatable = mutation_flags(space, backend, run_config_hooks)
    only_pbt = not values["perform_variable_opt"] and not values["perform_main_hyperopt"]
    for entry in space.searched:
        raw = values["search_space"][entry.name]
        if mutatable[entry.name] and entry.conditional:
            report.problems.append(
                Problem(
                    f"search_space[{entry.name!r}]",
                    raw,
                    "no conditional bounds/values and no "
                    "'only' for a hyperparameter tuned by Population Based Training",
                )
            )
        if only_pbt and not mutatable[entry.name]:
            report.problems.append(
                Problem(
                    f"search_space[{entry.name!r}]",
                    raw,
                    "a fixed value or 'supports_mutation': True: when only PBT runs, nothing else can be optimized",
                )
            )
    if not any(mutatable.values()):
        report.problems.append(
            Problem(
                "perform_PBT_hyperopt",
                True,
                "at least one searched hyperparameter in search_space that Population Based Training can mutate",
                _nothing_mutatable_hint(backend, run_config_hooks),
            )
        )


def _nothing_mutatable_hint(backend: BackendDescriptor, run_config_hooks: tuple[str, ...]) -> str:
    mark = "mark the hyperparameters your model can change during training with 'supports_mutation': True"
    if not backend.mutatable:
        return mark
    if backend.builtin_model_in_use(run_config_hooks):
        return f"search one of {', '.join(backend.mutatable)} (built into the '{backend.name}' model), or {mark}"
    replacing = ", ".join(sorted(set(backend.model_hooks) & set(run_config_hooks)))
    return f"the run-config's {replacing} replaces the built-in '{backend.name}' model, so {mark}"


def _run_config_hooks(run_config: RunConfig) -> set[str]:
    from optima_core.plugins.runconfig import build_run_config_plugin

    if run_config.module is None:
        return set()
    return set(build_run_config_plugin(run_config.module).provided)


def _with_plugins(
    values: dict[str, Any], manager: OptimaPluginManager, report: ValidationReport, space_valid: bool
) -> BackendDescriptor | None:
    """The checks that need the installed plugins; returns the backend selected by ``model_type`` if registered."""
    add = report.problems.append
    for error in manager.registry_errors:
        add(Problem("plugins", "(installed plugins)", "unique component names", error))
    if manager.run_config_hooks is not None:
        for hook_problem in manager.run_config_hooks.problems:
            add(
                Problem(
                    hook_problem.hook, "(run-config definition)", "a valid hook implementation", hook_problem.message
                )
            )
        for name in manager.run_config_hooks.ignored_imports:
            report.warnings.append(
                f"'{name}' is imported into the run-config, not defined there: it does not replace the built-in hook"
            )
    if manager.registry_errors:
        return None
    backends = manager.backends()
    model_type = values["model_type"]
    if isinstance(model_type, str) and model_type not in backends:
        close = closest_name(model_type, sorted(backends))
        hint = (
            f"did you mean '{close}'?"
            if close
            else manager.failed_plugins_note() or "is the plugin providing it installed? ('optima plugins' lists them)"
        )
        add(
            Problem(
                "model_type",
                model_type,
                "a registered backend: " + (", ".join(repr(b) for b in sorted(backends)) or "none installed"),
                hint,
            )
        )
    run_config_hooks = tuple(manager.run_config_hooks.provided if manager.run_config_hooks is not None else ())
    backend = backends.get(model_type) if isinstance(model_type, str) else None
    if backend is not None:
        _with_backend(values, backend, run_config_hooks, manager, report, space_valid)
    mode = values["variable_optimization_mode"]
    evaluators = sorted(manager.evaluators())
    if isinstance(mode, str) and mode not in evaluators:
        close = closest_name(mode, evaluators)
        add(
            Problem(
                "variable_optimization_mode",
                mode,
                "a registered variable-importance evaluator: " + (", ".join(repr(e) for e in evaluators) or "none"),
                f"did you mean '{close}'?" if close else manager.failed_plugins_note(),
            )
        )
    if (
        mode == "custom"
        and values["perform_variable_opt"]
        and not manager.hook_providers("evaluate_variable_importance")
    ):
        add(
            Problem(
                "evaluate_variable_importance",
                "(not defined)",
                "a run-config function evaluate_variable_importance when variable_optimization_mode is 'custom'",
            )
        )
    check_components(values, backend, manager, report)
    return backend


def _with_backend(
    values: dict[str, Any],
    backend: BackendDescriptor,
    run_config_hooks: tuple[str, ...],
    manager: OptimaPluginManager,
    report: ValidationReport,
    space_valid: bool,
) -> None:
    """The checks that depend on the facts the selected backend's descriptor states.

    The search space is only read for Population Based Training when ``space_valid`` (its problems are reported).
    """
    add = report.problems.append
    missing = [name for name, version in backend.framework_versions().items() if version is None]
    if missing:
        add(
            Problem(
                "model_type",
                backend.name,
                f"a backend whose frameworks are installed ({', '.join(backend.requires)})",
                f"not installed: {', '.join(missing)} (provider: {backend.provider or 'unknown'})"
                + (f"; install them with: {backend.install_hint}" if backend.install_hint else ""),
            )
        )
    for hook in backend.required_hooks:
        if not manager.hook_providers(hook):
            add(
                Problem(
                    hook,
                    "(not defined)",
                    f"a {hook} in the run-config or a plugin: the '{backend.name}' backend requires it",
                )
            )
    scaling = values["input_scaling"]
    builtin_normalisation = backend.builtin_model_in_use(run_config_hooks) and "InputHandler" not in run_config_hooks
    if isinstance(scaling, dict) and backend.scalings and builtin_normalisation:
        for key, entry in scaling.items():
            if (
                isinstance(entry, (tuple, list))
                and entry
                and isinstance(entry[0], str)
                and entry[0] not in backend.scalings
            ):
                add(
                    Problem(
                        f"input_scaling[{key!r}]",
                        entry[0],
                        f"a scale type of the built-in '{backend.name}' model: "
                        + ", ".join(repr(s) for s in backend.scalings),
                    )
                )
    if space_valid:
        _check_pbt(values, backend, run_config_hooks, report)
        check_search_space(values["search_space"], backend, run_config_hooks, report)
    if backend.hyperparameters:  # a backend stating its built-in model's facts reports only the configured metrics
        monitor = check_monitor_name(values, reported_names(values)[0], backend, run_config_hooks)
        if monitor is not None and not any(p.parameter == "monitor_name" for p in report.problems):
            add(monitor)


def validate(run_config: RunConfig, manager: OptimaPluginManager | None = None) -> ValidationReport:
    """Check everything that can be checked without loading data or starting Ray."""
    report = ValidationReport()
    values = run_config.as_dict()
    _unknown_names(run_config, report)
    _per_parameter(values, report, run_config.sources)
    space_problems = validate_search_space(values.get("search_space"))
    report.problems.extend(space_problems)
    _cross_parameter(values, run_config, report)
    backend = None if manager is None else _with_plugins(values, manager, report, space_valid=not space_problems)
    if run_config.module is not None:
        extra = {n: v for n, v in setting_names(run_config.module).items() if n in report.extra_names}
        check_top_level_names(extra, values["search_space"], backend, _run_config_hooks(run_config), report)
    return report


def check(run_config: RunConfig, manager: OptimaPluginManager | None = None) -> ValidationReport:
    """Validate and raise :class:`ConfigError` listing every problem; return the report (with warnings) if fine."""
    report = validate(run_config, manager)
    if report.problems:
        raise ConfigError(f"The run-config '{run_config.path}'", report.problems)
    return report
