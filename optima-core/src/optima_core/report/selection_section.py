"""The report's section of the input-variable selection: the iterations, the chosen and dropped variables, and
the stability of each variable's verdict (``variable_selection/variable_selection.json``, ``stability.png``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optima_core.report.files import read_json
from optima_core.report.html_parts import Raw, esc, figure, gallery, missing, number, paragraph, section, table
from optima_core.report.stage_section import plots_reason


def _estimate(entry: Any) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), (int, float)):
        return "-"
    uncertainty = entry.get("uncertainty")
    if isinstance(uncertainty, (int, float)):
        return f"{number(float(entry['value']), 5)} ± {number(float(uncertainty), 2)}"
    return number(float(entry["value"]), 5)


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else ("yes" if value else "no")
    return number(float(value), 4) if isinstance(value, (int, float)) else str(value)


def iterations_table(record: dict[str, Any]) -> str:
    rows: list[list[Any]] = [
        ["start", "-", f"all {len(record.get('all_vars') or [])}", _estimate(record.get("start")), "-", ""]
    ]
    for it in record.get("iterations") or []:
        if not isinstance(it, dict):
            continue
        chosen = it.get("tried", {}).get(it.get("chosen"), {}) if isinstance(it.get("tried"), dict) else {}
        value = _estimate(it.get("metric"))
        if it.get("reevaluated"):
            value += f" (re-evaluated; first {_estimate(chosen)})"
        rows.append(
            [
                it.get("number", "?"),
                it.get("phase", "?"),
                ", ".join(it.get("dropped") or []),
                value,
                "accepted" if it.get("accepted") else "rejected",
                it.get("reason", ""),
            ]
        )
    return table(["iteration", "phase", "drop", "metric", "decision", "reason"], rows, id="selection-iterations")


def stability_table(stability: dict[str, Any]) -> str:
    rows = []
    for variable, entry in stability.items():
        entry = entry if isinstance(entry, dict) else {}
        rows.append(
            [
                variable,
                _number(entry.get("removable")),
                _number(entry.get("evaluations")),
                _number(entry.get("fraction")),
                _number(entry.get("mean_difference")),
                _number(entry.get("uncertainty")),
                _number(entry.get("flips")),
                _number(entry.get("dropped")),
            ]
        )
    headers = ["variable", "removable", "evaluations", "fraction", "mean difference", "uncertainty", "flips", "dropped"]
    return table(headers, rows, id="stability")


def selection_section(folder: Path) -> Raw:
    """Everything the variable selection recorded; one line per part it did not (yet) write."""
    record = read_json(folder / "variable_selection.json")
    if not isinstance(record, dict):
        return section(
            "stage-variable_selection",
            "Input-variable selection",
            [missing("Variable selection: no variable_selection.json yet (the selection has not finished)")],
        )
    selected, dropped = record.get("selected") or [], record.get("dropped") or []
    parts: list[str] = [
        paragraph(
            f"Metric '{record.get('metric', '?')}' ({record.get('op', '?')}), {record.get('averages', '')} over folds, "
            f"criterion '{record.get('criterion', '?')}'."
        ),
        Raw(
            f'<p>Chosen ({len(selected)}): <strong id="selected-variables">{esc(", ".join(selected))}</strong><br>'
            f'Dropped ({len(dropped)}): <span id="dropped-variables">{esc(", ".join(dropped) or "none")}</span></p>'
        ),
        "<h3>Iterations</h3>",
        iterations_table(record),
    ]
    reason = plots_reason()
    figures = [figure(folder / "variable_selection.png", "variable selection", reason)]
    stability = record.get("stability")
    parts.append("<h3>Stability</h3>")
    if isinstance(stability, dict) and stability:
        parts.append(stability_table(stability))
        figures.append(figure(folder / "stability.png", "stability", reason))
    else:
        parts.append(missing("Stability: not recorded in variable_selection.json"))
    parts += ["<h3>Figures</h3>", gallery(figures)]
    return section("stage-variable_selection", "Input-variable selection", parts)
