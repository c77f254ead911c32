"""The report's section about the inputs: variables with their scalings, events and weights per class and split,
and the input plots (``inputs/*.png``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optima_core.report.html_parts import Raw, figure, gallery, missing, number, paragraph, section, table

SPLIT_NAMES = {"train": "training", "val": "validation", "test": "testing"}


def _scaling_text(scaling: Any) -> str:
    try:
        kind, (scale, offset) = scaling
    except (TypeError, ValueError):
        return str(scaling)
    return f"{kind} (scale {scale:g}, offset {offset:g})"


def _variables_table(inputs: dict[str, Any], resolved: dict[str, Any]) -> list[str]:
    variables = inputs.get("variables") or resolved.get("input_vars")
    if not variables:
        return [missing("Variables: not recorded and input_vars is None (all variables of the file)")]
    scalings = inputs.get("scalings") or resolved.get("input_scaling") or {}
    rows = [(str(v), _scaling_text(scalings[str(v)]) if str(v) in scalings else "linear") for v in variables]
    return [
        paragraph(f"{len(rows)} input variables at the start of the run:"),
        table(["variable", "non-linear scaling"], rows, id="input-variables"),
    ]


def _classes_table(classes: Any) -> list[str]:
    if not isinstance(classes, dict) or not classes:
        return [missing("Events per class: not recorded in optima_run.json (a run of an older OPTIMA)")]
    rows = []
    for split, totals in classes.items():
        for entry in totals or []:
            weight = entry.get("weight")
            rows.append(
                (
                    SPLIT_NAMES.get(split, split),
                    entry.get("class", "?"),
                    entry.get("encoding", ""),
                    entry.get("events", "?"),
                    number(weight) if isinstance(weight, (int, float)) else "-",
                )
            )
    return [
        "<h3>Events and weights per class</h3>",
        paragraph("The split the optimization trains and validates its trials on (fold 0's for cross-validation)."),
        table(["split", "class", "encoding", "events", "sum of weights"], rows, id="class-totals"),
    ]


def inputs_section(folder: Path, manifest: dict[str, Any], resolved: dict[str, Any]) -> Raw:
    recorded = manifest.get("inputs")
    inputs: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
    parts = _variables_table(inputs, resolved) + _classes_table(inputs.get("classes"))
    parts.append("<h3>Input variables</h3>")
    plots = sorted((folder / "inputs").glob("*.png"))
    if plots:
        parts.append(gallery([figure(path, path.stem, "unreadable") for path in plots]))
    elif resolved.get("produce_inputs_plots") is False:
        parts.append(missing("Input plots: produce_inputs_plots = False"))
    else:
        parts.append(missing("Input plots: none in inputs/ (optima-plots not installed, or the run stopped early)"))
    return section("inputs", "The inputs", parts)
