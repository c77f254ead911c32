"""The report's section of one stage folder: its trials, figures, the selected trials and their cross-validation.

Optimization stages (the variable selection's pre-HPO, the main HPO, PBT) have trials, ``selection.json`` and
``crossvalidation/<label>/``; training with fixed hyperparameters has its models in ``models/``. Values a test
or script may look for carry ``id``/``data-*`` attributes (the best-value trial, the cross-validated values).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from optima_core.report.files import read_json, read_text
from optima_core.report.html_parts import (
    Raw,
    attributes,
    cell,
    code_block,
    definitions,
    esc,
    figure,
    gallery,
    missing,
    number,
    paragraph,
    section,
    table,
)
from optima_core.report.trials import stage_trials

SPLIT_NAMES = {"train": "training", "val": "validation", "test": "testing"}
TRIAL_COLUMNS = ["trial", "Optuna #", "state", "best value", "at epoch", "last value", "epochs", "hyperparameters"]


def plots_reason() -> str:
    """Why a figure the core draws through optima-plots is not there."""
    from importlib.util import find_spec

    if find_spec("optima_plots") is None:
        return "not drawn: optima-plots not installed"
    return "not drawn (the stage stopped before drawing it, or a plugin left it out)"


def _value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, float):
        return number(value)
    return str(value)


def _config_text(config: Any) -> str:
    if not isinstance(config, dict):
        return ""
    return ", ".join(f"{k}={_value(v)}" for k, v in config.items() if not str(k).startswith("optima_"))


def trials_part(stage: Path, resolved: dict[str, Any], best_trial: str | None) -> list[str]:
    records, source = stage_trials(stage, str(resolved.get("monitor_op", "min")), resolved.get("max_epochs"))
    if not records:
        return [missing("Trials: none recorded yet (no trials.json and no Tune results)")]
    rows = []
    for r in records:
        trial = str(r.get("tune_trial_id", "?"))
        state = str(r.get("state", "?"))
        if state == "stopped" and r.get("stopped_at_epoch") is not None:
            state = f"stopped at epoch {r['stopped_at_epoch']}"
        if r.get("error"):
            state = f"{state}: {r['error']}"
        rows.append(
            [
                cell(trial, class_="best" if trial == best_trial else None, data_trial=trial),
                _value(r.get("optuna_trial_number")),
                state,
                _value(r.get("value")),
                _value(r.get("best_epoch")),
                _value(r.get("last_value")),
                _value(r.get("epochs")),
                _config_text(r.get("config")),
            ]
        )
    counts: dict[str, int] = {}
    for r in records:
        counts[str(r.get("state", "?"))] = counts.get(str(r.get("state", "?")), 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    monitor = resolved.get("monitor_name", "the target")
    return [
        "<h3>Trials</h3>",
        paragraph(f"{len(records)} trials ({summary}); values are {monitor}; from {source}."),
        table(TRIAL_COLUMNS, rows, class_="trials", data_stage=stage.name),
    ]


def _selection_details(kind: str, chosen: dict[str, Any], monitor: str) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = [
        ("trial", chosen.get("trial", "?")),
        ("epoch", chosen.get("epoch", "?")),
        (monitor, _value(chosen.get("value"))),
        ("hyperparameters", _config_text(chosen.get("config"))),
    ]
    if chosen.get("reason"):
        items.append(("why", chosen["reason"]))
    fit = chosen.get("fit")
    if isinstance(fit, dict):
        names = {"r_squared": "R²", "trials_fitted": "trials fitted"}
        items.append(("fit", "; ".join(f"{names.get(k, k)} = {_value(v)}" for k, v in fit.items())))
    elif fit is not None:
        items.append(("fit (R²)", _value(fit)))
    return items


def selection_part(stage: Path, resolved: dict[str, Any]) -> tuple[list[str], str | None]:
    """The best-value and best-fit selections; also returns the best-value trial id."""
    selection = read_json(stage / "selection.json")
    if not isinstance(selection, dict):
        return [missing("Selected trials: no selection.json yet (the stage has not finished its trials)")], None
    monitor = str(resolved.get("monitor_name", "value"))
    parts: list[str] = ["<h3>Selected trials</h3>"]
    if selection.get("objective_note"):
        parts.append(Raw(f'<p class="note">{esc(selection["objective_note"])}</p>'))
    best_trial = None
    for kind in ("best-value", "best-fit"):
        chosen = selection.get(kind)
        if not isinstance(chosen, dict):
            why = _fit_skipped(stage) if kind == "best-fit" else "not selected"
            parts.append(missing(f"{kind}: {why}"))
            continue
        trial = str(chosen.get("trial", "?"))
        if kind == "best-value":
            best_trial = trial
            marker = Raw(
                f"<span{attributes(class_='best-value-trial', id=f'best-value-trial-{stage.name}', data_trial=trial)}>"
                f"{esc(trial)}</span>"
            )
            parts.append(Raw(f"<h4>best-value: trial {marker}</h4>"))
        else:
            parts.append(Raw(f"<h4>best-fit: trial {esc(trial)}</h4>"))
        parts.append(definitions(_selection_details(kind, chosen, monitor)))
    return parts, best_trial


def _fit_skipped(stage: Path) -> str:
    text = read_text(stage / "selection.txt") or ""
    for line in text.splitlines():
        if line.startswith("best-fit:"):
            return line.removeprefix("best-fit:").strip()
    return "not selected"


def test_auc(evaluation: Any) -> tuple[str, float, float | None] | None:
    """``(metric name, value, spread)`` of the cross-validated test ROC AUC in an ``evaluation.json``."""
    if not isinstance(evaluation, dict):
        return None
    test = (evaluation.get("average") or {}).get("test") or {}
    for name, entry in test.items():
        if "roc_auc" in name and isinstance(entry, dict) and isinstance(entry.get("value"), (int, float)):
            spread = entry.get("spread")
            return name, float(entry["value"]), float(spread) if isinstance(spread, (int, float)) else None
    return None


def _with_spread(value: Any, spread: Any) -> str:
    from optima_core.evaluation.average import format_with_spread

    if not isinstance(value, (int, float)):
        return "-"
    if not isinstance(spread, (int, float)):
        return number(float(value))
    return format_with_spread(float(value), float(spread))


def evaluation_table(evaluation: dict[str, Any], stage: str, label: str) -> str:
    folds = [f for f in evaluation.get("folds") or [] if isinstance(f, dict)]
    headers = ["split", "metric", f"over {len(folds)} folds"] + [
        f"fold {f.get('fold', i)}" for i, f in enumerate(folds)
    ]
    rows = []
    for group, metrics in (evaluation.get("average") or {}).items():
        for name, entry in (metrics or {}).items():
            entry = entry if isinstance(entry, dict) else {"value": entry}
            row: list[Any] = [
                SPLIT_NAMES.get(group, group),
                name,
                cell(
                    _with_spread(entry.get("value"), entry.get("spread")),
                    class_="cv-value",
                    data_stage=stage,
                    data_label=label,
                    data_group=group,
                    data_metric=name,
                    data_value=entry.get("value"),
                    data_spread=entry.get("spread"),
                ),
            ]
            row += [_value(((f.get("values") or {}).get(group) or {}).get(name)) for f in folds]
            rows.append(row)
    return table(headers, rows, class_="evaluation")


def models_part(models: Path, stage: str, label: str, title: str) -> list[str]:
    """The evaluation table and the plots of one folder of (fold) models."""
    parts: list[str] = [f"<h4>{esc(title)}</h4>"]
    evaluation = read_json(models / "evaluation.json")
    if isinstance(evaluation, dict):
        spread = evaluation.get("spread", "")
        parts.append(paragraph(f"Averages: {spread}." if spread else "Averages over folds."))
        parts.append(evaluation_table(evaluation, stage, label))
    else:
        text = read_text(models / "evaluation.txt")
        if text is not None:
            parts.append(code_block(text))
        else:
            parts.append(missing(f"Evaluation of {label}: not written yet (the models were not evaluated)"))
    plots = sorted((models / "plots").glob("*/*.png"))
    if plots:
        parts.append(gallery([figure(p, f"{p.parent.name}: {p.stem}", "unreadable") for p in plots]))
    else:
        parts.append(missing(f"Evaluation plots of {label}: {plots_reason()}"))
    return parts


def crossvalidation_part(stage: Path) -> list[str]:
    folder = stage / "crossvalidation"
    labels = sorted(p for p in folder.glob("*") if p.is_dir() and p.name != "tune") if folder.is_dir() else []
    if not labels:
        return [missing("Cross-validation: not run yet")]
    parts: list[str] = ["<h3>Cross-validation</h3>"]
    for models in labels:
        parts += models_part(models, stage.name, models.name, f"{models.name.replace('_', '-')} hyperparameters")
    return parts


def commands_part(stage: Path) -> list[str]:
    lines = []
    study = stage / "optuna_study.db"
    if study.is_file():
        lines.append(f"optuna-dashboard {shlex.quote(f'sqlite:///{study.resolve()}')}")
    tune = stage / "tune"
    if tune.is_dir():
        lines.append(f"tensorboard --logdir {shlex.quote(str(tune.resolve()))}")
    if not lines:
        return []
    return [
        "<h3>Explore</h3>",
        paragraph("The Optuna study in optuna-dashboard and Tune's logs in TensorBoard:"),
        code_block("\n".join(lines)),
    ]


def optimization_section(stage: Path, title: str, resolved: dict[str, Any]) -> tuple[Raw, str | None]:
    """The section of one optimization stage folder, and its best-value trial id."""
    selection, best_trial = selection_part(stage, resolved)
    reason = plots_reason()
    figures = gallery(
        [
            figure(stage / "metric_histories.png", "metric histories", reason),
            figure(stage / "search_overview.png", "search overview", reason),
        ]
    )
    parts = [*trials_part(stage, resolved, best_trial), "<h3>Figures</h3>", figures, *selection]
    parts += crossvalidation_part(stage) + commands_part(stage)
    return section(f"stage-{stage.name}", title, parts), best_trial


def fixed_section(output: Path) -> Raw:
    """The section of a training with fixed hyperparameters (``models/``)."""
    parts = models_part(output / "models", "models", "fixed", "the models")
    return section("stage-models", "Training with fixed hyperparameters", parts)
