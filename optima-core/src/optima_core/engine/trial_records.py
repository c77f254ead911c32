"""What every trial of an optimization stage did, in one file, linked to the Optuna study; why each trial was picked.

After the trial selection of a stage (main HPO, the variable selection's pre-HPO, PBT) the stage writes
``<stage folder>/trials.json``, one entry per Tune trial::

    {"tune_trial_id", "optuna_trial_number" (null for PBT), "config" (the hyperparameters),
     "value" and "best_epoch" (the selection metric at the trial's best valid epoch, as selection defines it),
     "last_value", "epochs" (epochs run), "state" ("completed" | "stopped" | "failed"),
     "stopped_at_epoch" (where ASHA stopped it), "error"}

The Optuna study of an HPO stage (``optuna_study.db``) links each Optuna trial to its Tune trial (user attribute
``tune_trial_id``, written by :class:`~optima_core.engine.optuna_searcher.ResumableOptunaSearch`, which also records
ASHA stops as PRUNED) and, once selected, gets the study attributes ``best_value`` and ``best_fit``
(``{"tune_trial_id", "epoch", "value"}``, the same as ``selection.json``; ``None`` when there is no such selection).

Imports Optuna only inside the functions that open the study.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from optima_core.selection import Selection, TrialHistory, trial_best_epoch
from optima_core.training.loop import diverged

TRIALS_FILE = "trials.json"
STUDY_FILE = "optuna_study.db"
#: The study attributes holding the selections (the keys of ``selection.json`` with underscores).
STUDY_SELECTION_ATTRS = {"best-value": "best_value", "best-fit": "best_fit"}

_BUILTIN_FIT = "built-in fit a/x² + b/x + c·x² + d·x + e"


def result_trial_id(result: Any) -> str:
    """The Tune trial id of one result of a ResultGrid."""
    return str((result.metrics or {}).get("trial_id") or (Path(result.path).name if result.path else "?"))


def value_column(metric: str) -> str:
    """The name of the search overview's value column: what the value is, for the colour bar and the legend."""
    return f"{metric} at best valid epoch"


def search_overview_rows(found: list[TrialHistory], metric: str, mode: str) -> list[dict[str, Any]]:
    """One row per trial for the parallel-coordinates view: hyperparameters and the value selection ranks."""
    rows = []
    for trial in found:
        best = trial_best_epoch(trial.frame, metric, mode)
        rows.append(
            {
                **trial.config,
                "trial_id": trial.trial_id,
                "best_epoch": None if best is None else best[0],
                value_column(metric): math.nan if best is None else best[1],
            }
        )
    return rows


def fit_description(manager: Any) -> str:
    """Which ``fit_function`` the best-fit selection uses: the built-in fit, the run-config's or a plugin's."""
    from optima_core.plugins.runconfig import RUN_CONFIG_PLUGIN_NAME

    providers = manager.hook_providers("fit_function")
    first = providers[0] if providers else ""
    if not first or first.startswith("optima_core"):
        return _BUILTIN_FIT
    if first == RUN_CONFIG_PLUGIN_NAME:
        return "the run-config's fit_function"
    return f"fit_function of plugin '{first}'"


def selection_entry(selection: Selection) -> dict[str, Any]:
    """One selection as ``selection.json`` holds it (the original keys, then why it was picked)."""
    entry: dict[str, Any] = {
        "trial": selection.trial_id,
        "epoch": selection.epoch,
        "value": selection.value,
        "config": selection.config,
        "reason": selection.reason,
    }
    if "fit" in selection.details:
        entry["fit"] = selection.details["fit"]
    return entry


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _error_text(result: Any, metric: str) -> str | None:
    metrics = result.metrics or {}
    if result.error is not None:
        lines = [line.strip() for line in str(result.error).splitlines() if line.strip()]
        return (lines[-1] if lines else type(result.error).__name__)[:500]
    if diverged(metrics):
        return f"training diverged: {metric} became {metrics.get(metric)} at epoch {metrics.get('epoch')}"
    return None


def _study(folder: Path, name: str) -> Any:
    """The stage's Optuna study, or ``None`` when the stage has none (PBT)."""
    path = folder / STUDY_FILE
    if not path.exists():
        return None
    import optuna

    return optuna.load_study(study_name=name, storage=optuna.storages.RDBStorage(f"sqlite:///{path}"))


def trial_records(
    results: Any, found: list[TrialHistory], metric: str, mode: str, study: Any = None
) -> list[dict[str, Any]]:
    """The entries of ``trials.json`` (see module docs) for a ResultGrid and the histories selection used."""
    from optima_core.engine.optuna_searcher import EPOCHS_ATTR, TUNE_TRIAL_ID_ATTR

    by_id = {trial.trial_id: trial for trial in found}
    optuna_trials = {}
    if study is not None:
        for frozen in study.get_trials(deepcopy=False):
            if TUNE_TRIAL_ID_ATTR in frozen.user_attrs:
                optuna_trials[str(frozen.user_attrs[TUNE_TRIAL_ID_ATTR])] = frozen
    records = []
    for result in results:
        trial_id = result_trial_id(result)
        history = by_id.get(trial_id)
        frame: Any = history.frame if history is not None else None
        best = trial_best_epoch(frame, metric, mode)
        has_rows = frame is not None and len(frame) > 0
        epochs = int(frame["epoch"].max()) if has_rows else int((result.metrics or {}).get("epoch") or 0)
        frozen = optuna_trials.get(trial_id)
        error = _error_text(result, metric)
        stopped_at = None
        if frozen is not None and frozen.state.name == "PRUNED" and error is None:
            stopped_at = int(frozen.user_attrs.get(EPOCHS_ATTR, epochs))
        state = "failed" if error is not None else "stopped" if stopped_at is not None else "completed"
        records.append(
            {
                "tune_trial_id": trial_id,
                "optuna_trial_number": None if frozen is None else int(frozen.number),
                "config": {k: v for k, v in (result.config or {}).items() if not k.startswith("optima_")},
                "value": None if best is None else best[1],
                "best_epoch": None if best is None else best[0],
                "last_value": _finite(frame[metric].iloc[-1]) if has_rows and metric in frame else None,
                "epochs": epochs,
                "state": state,
                "stopped_at_epoch": stopped_at,
                "error": error,
            }
        )
    return records


def record_trials(
    folder: Path,
    name: str,
    results: Any,
    found: list[TrialHistory],
    metric: str,
    mode: str,
    selections: list[Selection | None],
) -> Path:
    """Write ``trials.json`` and, for a stage with an Optuna study, store the selections as study attributes."""
    study = _study(folder, name)
    if study is not None:
        chosen = {s.kind: s for s in selections if s is not None}
        for kind, attribute in STUDY_SELECTION_ATTRS.items():
            selection = chosen.get(kind)
            study.set_user_attr(
                attribute,
                None
                if selection is None
                else {"tune_trial_id": selection.trial_id, "epoch": selection.epoch, "value": selection.value},
            )
    path = folder / TRIALS_FILE
    records = trial_records(results, found, metric, mode, study)
    path.write_text(json.dumps(records, indent=2, default=repr))
    return path
