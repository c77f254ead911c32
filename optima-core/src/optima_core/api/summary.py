"""What a finished run left in its output folder, as typed records: :class:`RunSummary` and its stages.

Read from disk only (:func:`read_summary`), so that :func:`optima_core.api.run` and
:func:`optima_core.api.load_run` give the same summary. Per optimization stage (``variable_opt_hyperopt``,
``main_hyperopt``, ``PBT``): the trials selected by best-value and best-fit (``selection.json``) and, per selection,
the folder of its cross-validated models and the content of their ``evaluation.json``. A run with fixed
hyperparameters has one stage, ``fixed``, with one selection, ``fixed`` (its models are in ``models/``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optima_core.errors import OptimaUserError

MANIFEST = "optima_run.json"  # the same name as optima_core.engine.output.MANIFEST (kept import-light)
REPORT_FILE = "report.html"
#: Optimization stages in the order a run performs them: (folder name, the run-config flag that enables it).
OPTIMIZATION_STAGES = (
    ("variable_opt_hyperopt", "perform_variable_opt"),
    ("main_hyperopt", "perform_main_hyperopt"),
    ("PBT", "perform_PBT_hyperopt"),
)
FIXED = "fixed"
#: Selection names as the API spells them, by the kind ``selection.json`` records.
SELECTION_NAMES = {"best-value": "best_value", "best-fit": "best_fit"}


@dataclass(frozen=True)
class SelectionSummary:
    """One selected hyperparameter set and its cross-validation.

    ``name`` is ``best_value``, ``best_fit`` or ``fixed``; ``trial``, ``epoch`` and ``value`` (of the target metric)
    are ``None`` for fixed hyperparameters. ``models_dir`` holds the fold models; ``evaluation`` is their
    ``evaluation.json`` (``None`` when it was not written).
    """

    name: str
    trial: str | None
    epoch: int | None
    value: float | None
    config: dict[str, Any]
    models_dir: Path
    evaluation: dict[str, Any] | None


@dataclass(frozen=True)
class StageSummary:
    """One stage: its name and folder, the input variables its models take and its selections by name."""

    name: str
    folder: Path
    input_vars: tuple[str, ...] | None
    selections: dict[str, SelectionSummary] = field(default_factory=dict)

    def selection(self, name: str | None = None) -> SelectionSummary:
        """The selection ``name`` (``best_value``, ``best_fit``, ``fixed``; ``None``: the first one)."""
        if not self.selections:
            raise OptimaUserError(f"the stage '{self.name}' in {self.folder} has no selected trial (yet)")
        if name is None:
            return next(iter(self.selections.values()))
        key = name.replace("-", "_")
        if key not in self.selections:
            raise OptimaUserError(
                f"selection = {name!r}: expected one of {', '.join(map(repr, self.selections))} (the selections "
                f"of the stage '{self.name}' in {self.folder})"
            )
        return self.selections[key]


@dataclass(frozen=True)
class RunSummary:
    """A run's output folder, its stages in run order, and ``report.html`` if written (else ``None``)."""

    output: Path
    stages: tuple[StageSummary, ...]
    report: Path | None

    def stage(self, name: str | None = None) -> StageSummary:
        """The stage ``name`` (``None``: the last stage, whose models are the run's result)."""
        if not self.stages:
            raise OptimaUserError(f"the run in {self.output} has no finished stage")
        if name is None:
            return self.stages[-1]
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise OptimaUserError(
            f"stage = {name!r}: expected one of {', '.join(repr(s.name) for s in self.stages)} (the stages of the "
            f"run in {self.output})"
        )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise OptimaUserError(f"cannot read {path}: {error}; expected the JSON file an OPTIMA run writes") from error


def check_output_folder(output: str | Path) -> Path:
    """``output`` resolved, if it is the output folder of an OPTIMA run; else an :class:`OptimaUserError`."""
    folder = Path(output).expanduser().resolve()
    if not folder.is_dir():
        raise OptimaUserError(
            f"the output folder '{folder}' does not exist: expected the folder of an OPTIMA run "
            "(<output_path>/<stages>_<output_name>, holding optima_run.json)"
        )
    if not (folder / MANIFEST).is_file():
        raise OptimaUserError(
            f"the folder '{folder}' holds no OPTIMA run (no {MANIFEST}): expected the output folder of an "
            "'optima run' (<output_path>/<stages>_<output_name>)"
        )
    return folder


def _evaluation(models_dir: Path) -> dict[str, Any] | None:
    path = models_dir / "evaluation.json"
    return _read_json(path) if path.is_file() else None


def _optimization_selections(folder: Path) -> dict[str, SelectionSummary]:
    path = folder / "selection.json"
    if not path.is_file():
        return {}
    recorded = _read_json(path)
    selections: dict[str, SelectionSummary] = {}
    for kind, name in SELECTION_NAMES.items():
        entry = recorded.get(kind)
        if entry is None:
            continue
        models_dir = folder / "crossvalidation" / name
        first = recorded.get("best-value")
        if not models_dir.exists() and first and (first["trial"], first["epoch"]) == (entry["trial"], entry["epoch"]):
            models_dir = folder / "crossvalidation" / "best_value"  # best-fit chose the same: its models are reused
        selections[name] = SelectionSummary(
            name=name,
            trial=str(entry["trial"]),
            epoch=int(entry["epoch"]),
            value=float(entry["value"]),
            config=dict(entry["config"]),
            models_dir=models_dir,
            evaluation=_evaluation(models_dir),
        )
    return selections


def _fixed_selection(output: Path) -> dict[str, SelectionSummary]:
    models_dir = output / "models"
    if not models_dir.is_dir():
        return {}
    evaluation = _evaluation(models_dir)
    config = dict((evaluation or {}).get("selected", {}).get("hyperparameters") or {})
    return {FIXED: SelectionSummary(FIXED, None, None, None, config, models_dir, evaluation)}


def read_summary(output: str | Path) -> RunSummary:
    """The :class:`RunSummary` of the output folder ``output`` (stages the run has not reached are left out)."""
    folder = check_output_folder(output)
    resolved = _read_json(folder / "resolved_config.json")
    variables = resolved.get("input_vars")
    initial = tuple(str(v) for v in variables) if isinstance(variables, list) else None
    selection_file = folder / "variable_selection" / "variable_selection.json"
    selected = None
    if selection_file.is_file():
        record = _read_json(selection_file)
        initial = tuple(record.get("all_vars") or ()) or initial
        selected = tuple(record.get("selected") or ()) or None
    stages: list[StageSummary] = []
    for name, flag in OPTIMIZATION_STAGES:
        stage_folder = folder / name
        if not resolved.get(flag) or not stage_folder.is_dir():
            continue
        input_vars = initial if name == "variable_opt_hyperopt" else (selected or initial)
        stages.append(StageSummary(name, stage_folder, input_vars, _optimization_selections(stage_folder)))
    if not any(resolved.get(flag) for _, flag in OPTIMIZATION_STAGES) and (folder / "models").is_dir():
        stages.append(StageSummary(FIXED, folder, initial, _fixed_selection(folder)))
    report = folder / REPORT_FILE
    return RunSummary(folder, tuple(stages), report if report.is_file() else None)
