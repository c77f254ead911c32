"""Output of the variable selection: progress lines, the per-iteration table, the JSON record and the plots.

The JSON record's ``"stability"`` is :meth:`optima_core.variable_selection.stability.StabilityRecord.summary`; the
figure ``stability.png`` (registered as ``'variable_selection_stability'``) draws it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from optima_core.builtin.input_handler import scaling_key as name
from optima_core.evaluation.average import format_with_spread
from optima_core.variable_selection.decision import Estimate, Iteration, SelectionState


def progress_line(iteration: Iteration, remaining: int) -> str:
    """One line per iteration, printed while the selection runs."""
    verdict = "accepted" if iteration.accepted else "rejected"
    return (
        f"[variable selection] iteration {iteration.number} ({iteration.phase}): drop "
        f"{', '.join(name(v) for v in iteration.dropped)} -> {iteration.estimate.describe()}"
        f"{' (re-evaluated)' if iteration.reevaluated else ''}: {verdict}, {iteration.reason}; {remaining} left"
    )


def _estimate(estimate: Estimate) -> dict[str, Any]:
    return {"value": estimate.value, "uncertainty": estimate.uncertainty, "per_fold": list(estimate.per_fold)}


def table_text(state: SelectionState, metric: str, spread: str, selected: list[Any]) -> str:
    """Every iteration: each tried set with its metric, the chosen one marked, and the decision."""
    lines = [
        f"Input-variable selection on '{metric}' ({state.op}), {spread} over folds, criterion '{state.criterion}'",
        f"start ({len(state.all_vars)} variables): {state.start.describe()}",
        "",
    ]
    for it in state.iterations:
        verdict = "ACCEPTED" if it.accepted else "rejected"
        lines.append(
            f"iteration {it.number} [{it.phase}] - {verdict}: drop {', '.join(name(v) for v in it.dropped)} "
            f"({it.reason})"
        )
        width = max(len(label) for label in it.candidates)
        for label, (variables, estimate) in sorted(
            it.candidates.items(), key=lambda item: item[1][1].value, reverse=state.op == "max"
        ):
            marker = "*" if label == it.chosen else " "
            lines.append(
                f"  {marker} {label:<{width}}  {estimate.describe():>22}  [{', '.join(name(v) for v in variables)}]"
            )
        if it.reevaluated:
            lines.append(f"    re-evaluated '{it.chosen}': {it.estimate.describe()}")
        lines.append("")
    lines.append(f"selected ({len(selected)}): {', '.join(name(v) for v in selected)}")
    return "\n".join(lines)


def stability_text(stability: dict[str, dict[str, Any]]) -> str:
    """One line per variable: removable in how many evaluations, the mean paired difference, flips, dropped."""
    if not stability:
        return ""
    width = max(len(variable) for variable in stability)
    lines = ["stability (removal judged harmless / evaluations; metric without the variable minus reference):"]
    for variable, entry in sorted(stability.items(), key=lambda item: -item[1]["fraction"]):
        notes = [
            note for note, flag in (("dropped", entry["dropped"]), ("FLIPS between folds", entry["flips"])) if flag
        ]
        lines.append(
            f"  {variable:<{width}}  {entry['removable']:>3}/{entry['evaluations']:<3} ({entry['fraction']:.0%})  "
            f"{format_with_spread(entry['mean_difference'], entry['uncertainty']):>24}  {', '.join(notes)}".rstrip()
        )
    return "\n".join(lines)


def write_outputs(
    folder: Path,
    state: SelectionState,
    metric: str,
    use_median: bool,
    selected: list[Any],
    dropped: list[Any],
    plots: dict[str, Any],
    stability: dict[str, dict[str, Any]] | None = None,
) -> None:
    """``variable_selection.txt`` / ``.json``, ``selected_variables.txt`` and the plots (if optima-plots is there)."""
    folder.mkdir(parents=True, exist_ok=True)
    spread = "median ± MAD" if use_median else "mean ± std"
    text = table_text(state, metric, spread, selected)
    if stability:
        text += "\n\n" + stability_text(stability)
    (folder / "variable_selection.txt").write_text(text + "\n")
    (folder / "selected_variables.txt").write_text("".join(name(v) + "\n" for v in selected))
    payload = {
        "metric": metric,
        "op": state.op,
        "criterion": state.criterion,
        "averages": spread,
        "all_vars": [name(v) for v in state.all_vars],
        "start": _estimate(state.start),
        "selected": [name(v) for v in selected],
        "dropped": [name(v) for v in dropped],
        "iterations": [
            {
                "number": it.number,
                "phase": it.phase,
                "remaining_before": [name(v) for v in it.remaining_before],
                "tried": {
                    label: {"variables": [name(v) for v in variables], **_estimate(estimate)}
                    for label, (variables, estimate) in it.candidates.items()
                },
                "chosen": it.chosen,
                "dropped": [name(v) for v in it.dropped],
                "reevaluated": it.reevaluated,
                "metric": _estimate(it.estimate),
                "accepted": it.accepted,
                "reason": it.reason,
            }
            for it in state.iterations
        ],
        "stability": stability or {},
    }
    (folder / "variable_selection.json").write_text(json.dumps(payload, indent=2, default=repr))
    if "variable_selection" in plots and state.iterations:
        chosen = state.best if selected == state.best[0] else state.last_accepted
        plots["variable_selection"].load()(
            [
                {
                    "number": it.number,
                    "value": it.estimate.value,
                    "uncertainty": it.estimate.uncertainty,
                    "dropped": ", ".join(name(v) for v in it.dropped),
                    "accepted": it.accepted,
                }
                for it in state.iterations
            ],
            {"value": state.start.value, "uncertainty": state.start.uncertainty},
            metric,
            folder / "variable_selection",
            selected_iteration=chosen[2],
        )
    if "variable_selection_stability" in plots and stability:
        plots["variable_selection_stability"].load()(stability, metric, state.op, folder / "stability")
