"""Evaluate the fold models of one hyperparameter set and write ``evaluation.txt`` and ``evaluation.json``.

The ``evaluate`` hook is called for every model (the core's built-in unless a run-config or plugin replaces it), by
:func:`evaluate_one`: in the Ray worker that trained the model (:mod:`optima_core.engine.fold_trial`), or here in
the driver for a model its worker could not evaluate. Either way the files below have the same content.
Next to the models: ``<model>_evaluation.txt`` per model, ``evaluation.txt`` (one model's text, or the template
filled with the average and spread over folds) and ``evaluation.json``::

    {"label": ..., "selected": {"trial": ..., "epoch": ..., "hyperparameters": {...}},
     "spread": "mean ± sample std (ddof=1)",
     "folds": [{"fold": 0, "model": "model_fold0.keras", "values": {"test": {"loss": ..., "roc_auc": ...}, ...}}],
     "average": {"test": {"roc_auc": {"value": ..., "spread": ...}}, ...}}

Values are grouped by split (``train``/``val``/``test``; ``composite`` for composite metrics). For a run-config
``evaluate`` that returns only ``(template, values)`` the groups are the template's headings and the names its
labels (:func:`optima_core.evaluation.results.keys_from_template`). Non-finite numbers are written as ``null``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optima_core.evaluation.average import average_results, spread_name, summarise
from optima_core.evaluation.results import Evaluation, Key, keys_from_template
from optima_core.logs import say

if TYPE_CHECKING:
    from optima_core.engine.context import RunContext
    from optima_core.engine.crossvalidation import FoldPlan


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _nested(keys: list[Key], values: list[Any]) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = {}
    for (group, name), value in zip(keys, values, strict=True):
        grouped.setdefault(group, {})[name] = _json_value(value)
    return grouped


def evaluation_report(
    plan: FoldPlan, evaluated: list[tuple[int, Path, list[Key], list[Any]]], use_median: bool
) -> dict[str, Any]:
    """The content of ``evaluation.json`` for ``(fold, model file, keys, values)`` of every evaluated model."""
    keys = evaluated[0][2]
    columns = list(zip(*(values for _, _, _, values in evaluated), strict=True)) if keys else []
    average = [summarise(column, use_median) for column in columns]
    return {
        "label": plan.label,
        "selected": {
            "trial": plan.trial,
            "epoch": plan.epoch,
            "hyperparameters": dict(plan.model_config),
        },
        "spread": spread_name(use_median),
        "folds": [
            {"fold": fold, "model": path.name, "values": _nested(keys, values)}
            for fold, path, keys, values in evaluated
        ],
        "average": _nested(keys, [{"value": _json_value(c), "spread": _json_value(s)} for c, s in average]),
    }


#: One evaluated model: its template, values and the ``(group, name)`` key of each value; None when no ``evaluate``
#: implementation answered.
Outcome = tuple[str, list[Any], list[Key]] | None


def evaluate_one(
    hooks: Any,
    run_config: Any,
    input_handler: Any,
    model_config: dict[str, Any],
    split: tuple[Any, ...],
    path: Path,
    cpus: float,
) -> Outcome:
    """Call the ``evaluate`` hook for the model at ``path`` (figures into ``plots/<model>`` next to it), inside the
    run's :func:`~optima_core.plugins.active.using_manager`; in the driver or in the worker that trained it."""
    outcome = hooks.evaluate(
        run_config=run_config,
        model_path=str(path),
        model_config=dict(model_config),
        dataset_split=split,
        input_handler=input_handler,
        fig_dir=str(path.parent / "plots" / path.stem),
        native_metrics=list(run_config.native_metrics),
        weighted_native_metrics=list(run_config.weighted_native_metrics),
        custom_metrics=list(run_config.custom_metrics),
        composite_metrics=list(run_config.composite_metrics),
        class_labels=list(run_config.evaluation_class_labels),
        cpus=cpus,
        print_results=False,
        return_unfilled=True,
    )
    if outcome is None:
        return None
    template, values = outcome
    keys = list(outcome.keys) if isinstance(outcome, Evaluation) else keys_from_template(template)
    return str(template), list(values), keys


def evaluate_models(
    context: RunContext,
    plan: FoldPlan,
    folds: list[dict[str, Any]],
    model_files: list[Path],
    models_dir: Path,
    done: dict[int, Outcome] | None = None,
) -> str:
    """Evaluate every model (``done``: the outcomes its worker computed already, by model index; the others are
    evaluated here, one after the other); write each result, the average over folds and the JSON."""
    from optima_core.plugins.active import using_manager

    run_config = context.run_config
    use_median = bool(run_config.use_median_for_averages)
    evaluated: list[tuple[int, Path, list[Key], list[Any]]] = []
    collected: list[tuple[str, list[Any]]] = []
    done = done or {}
    with using_manager(context.manager):
        for index, path in enumerate(model_files):
            if not path.exists():
                continue
            if index in done:
                outcome = done[index]
            else:
                split = tuple(folds[index][s] for s in ("train", "val", "test") if s in folds[index])
                outcome = evaluate_one(
                    context.hooks,
                    run_config,
                    context.input_handler,
                    plan.model_config,
                    split,
                    path,
                    context.plan.cpus_per_trial,
                )
            if outcome is None:
                return ""
            template, values, keys = outcome
            collected.append((template, values))
            evaluated.append((index, path, keys, values))
            (models_dir / f"{path.stem}_evaluation.txt").write_text(template.format(*values) + "\n")
    if not collected:
        return ""
    if len(collected) == 1:
        text = collected[0][0].format(*collected[0][1])
    else:
        text = f"Average over {len(collected)} folds ({spread_name(use_median)}):\n" + average_results(
            collected, use_median
        )
    (models_dir / "evaluation.txt").write_text(text + "\n")
    report = evaluation_report(plan, evaluated, use_median)
    (models_dir / "evaluation.json").write_text(json.dumps(report, indent=2, default=repr) + "\n")
    say(f"[{plan.label}] evaluation: {models_dir / 'evaluation.txt'} and evaluation.json")
    return text
