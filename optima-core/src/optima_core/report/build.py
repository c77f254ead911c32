"""Build ``report.html`` of a run's output folder, from the files on disk only, and write it atomically.

The run writes it after every stage (also one that failed or was interrupted) and ``optima report OUTPUT_DIR``
rebuilds it: one code path. :func:`write_report_quietly` is what the run calls: a report that cannot be written
is a warning, never the end of the run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from optima_core.errors import OptimaUserError
from optima_core.report.files import read_json, write_atomically
from optima_core.report.html_parts import Raw, attributes, esc, missing, number, section
from optima_core.report.inputs_section import inputs_section
from optima_core.report.page import page
from optima_core.report.run_sections import config_section, parameters_section, run_section, timing_section
from optima_core.report.selection_section import selection_section
from optima_core.report.stage_section import fixed_section, optimization_section, test_auc

REPORT_FILE = "report.html"
MANIFEST = "optima_run.json"

logger = logging.getLogger(__name__)

#: The stage folders in run order: (folder, title, the flag asking for it).
STAGES = (
    ("variable_opt_hyperopt", "Variable selection: pre-HPO", "perform_variable_opt"),
    ("variable_selection", "Input-variable selection", "perform_variable_opt"),
    ("main_hyperopt", "Main hyperparameter optimization", "perform_main_hyperopt"),
    ("PBT", "Population Based Training", "perform_PBT_hyperopt"),
)


def check_output_folder(folder: Path) -> dict[str, Any]:
    """The manifest of ``folder``; a folder that is not an OPTIMA output folder is a user error."""
    if not folder.is_dir():
        raise OptimaUserError(f"The output folder '{folder}' does not exist: expected the output folder of a run")
    manifest = read_json(folder / MANIFEST)
    if not isinstance(manifest, dict):
        what = "has no" if not (folder / MANIFEST).exists() else "has an unreadable"
        raise OptimaUserError(
            f"The output folder '{folder}' {what} {MANIFEST}: expected the output folder of an OPTIMA run "
            "(the folder 'optima run' prints as 'Output folder: ...')"
        )
    return manifest


def _summary(output: Path, found: list[tuple[Path, str | None]]) -> Raw:
    """The result at a glance: the last stage's best-value trial and its cross-validated test ROC AUC."""
    if not found:
        return section("summary", "Result", [missing("Result: no stage has written results yet")])
    stage, best = found[-1]
    parts: list[str] = []
    if best is not None:
        parts.append(
            Raw(
                f"<p>Best-value trial of {esc(stage.name)}: <strong{attributes(id='best-value-trial', data_stage=stage.name, data_trial=best)}>"
                f"{esc(best)}</strong></p>"
            )
        )
    models = stage / "models" if stage == output else stage / "crossvalidation" / "best_value"
    auc = test_auc(read_json(models / "evaluation.json"))
    if auc is None:
        parts.append(missing(f"Cross-validated test ROC AUC: not in {models.relative_to(output)}/evaluation.json"))
    else:
        name, value, spread = auc
        shown = number(value) + (f" ± {number(spread, 2)}" if spread is not None else "")
        parts.append(
            Raw(
                f"<p>Cross-validated test ROC AUC ({esc(name)}): <strong"
                f"{attributes(id='cv-test-auc', data_value=repr(value), data_spread=spread, data_stage=stage.name)}>"
                f"{esc(shown)}</strong></p>"
            )
        )
    return section("summary", "Result", parts)


def build_report(folder: Path) -> str:
    """The HTML of the report of the output folder ``folder`` (raises :class:`OptimaUserError` for a folder that
    is not one)."""
    folder = folder.resolve()
    manifest = check_output_folder(folder)
    resolved = read_json(folder / "resolved_config.json")
    resolved = resolved if isinstance(resolved, dict) else {}
    stage_parts: list[str] = []
    stage_folders: list[Path] = []
    found: list[tuple[Path, str | None]] = []
    asked_any = False
    for name, title, flag in STAGES:
        asked = bool(resolved.get(flag))
        asked_any |= asked
        stage = folder / name
        if not stage.is_dir():
            if asked:  # a stage the run-config does not ask for has no section
                why = "stage not run (the run had not reached it when this report was written)"
                stage_parts.append(section(f"stage-{name}", title, [missing(f"{title}: {why}")]))
            continue
        stage_folders.append(stage)
        if name == "variable_selection":
            stage_parts.append(selection_section(stage))
            continue
        html, best = optimization_section(stage, title, resolved)
        stage_parts.append(html)
        found.append((stage, best))
    if not asked_any:
        if (folder / "models").is_dir():
            stage_folders.append(folder / "models")
            stage_parts.append(fixed_section(folder))
            found.append((folder, None))
        else:
            stage_parts.append(
                section("stage-models", "Training with fixed hyperparameters", [missing("Models: not trained yet")])
            )
    body = [
        _summary(folder, found),
        run_section(folder, manifest),
        timing_section(manifest, stage_folders),
        inputs_section(folder, manifest, resolved),
        config_section(folder),
        parameters_section(resolved or None),
        *stage_parts,
    ]
    written = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return page(f"OPTIMA report: {folder.name}", f"{folder} — report written {written}", body)


def write_report(folder: Path) -> Path:
    """Build the report of ``folder`` and write it to ``folder/report.html`` (atomically); returns its path."""
    text = build_report(folder)
    path = folder / REPORT_FILE
    write_atomically(path, text)
    return path


def write_report_quietly(folder: Path) -> Path | None:
    """:func:`write_report` for the run: a failure is logged as a warning and never raised."""
    try:
        return write_report(folder)
    except Exception as error:  # noqa: BLE001 - the report must never take the run down
        logger.warning("could not write %s in %s: %s: %s", REPORT_FILE, folder, type(error).__name__, error)
        return None
