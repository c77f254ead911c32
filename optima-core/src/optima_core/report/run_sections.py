"""The report's sections about the run as a whole: command, versions, resources, the run-config, the parameters
that differ from their defaults and the wall time per stage."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from optima_core.report.files import read_text
from optima_core.report.highlight import highlight_python
from optima_core.report.html_parts import Raw, code_block, definitions, missing, paragraph, section, table


def run_section(folder: Path, manifest: dict[str, Any]) -> Raw:
    """How the run was started: command, folder, run-config, start, versions and resources."""
    facts: list[tuple[str, Any]] = [
        ("command", manifest.get("command", "not recorded (a run of an older OPTIMA)")),
        ("working directory", manifest.get("cwd", "not recorded")),
        ("run-config", manifest.get("config", "?")),
        ("output folder", str(folder)),
        ("started", manifest.get("started", "?")),
        ("OPTIMA", manifest.get("optima_version", "?")),
        ("run-config SHA-256", manifest.get("config_sha256", "?")),
    ]
    columns: list[str] = []
    versions = manifest.get("versions")
    if isinstance(versions, dict) and versions:
        columns.append("<div><h3>Versions</h3>" + table(["package", "version"], sorted(versions.items())) + "</div>")
    else:
        columns.append(missing("Versions: not recorded in optima_run.json (a run of an older OPTIMA)"))
    resources = manifest.get("resources")
    if isinstance(resources, dict) and resources:
        rows = [(key.replace("_", " "), "-" if value is None else value) for key, value in resources.items()]
        columns.append("<div><h3>Resources</h3>" + table(["resource", "value"], rows) + "</div>")
    else:
        columns.append(missing("Resources: not recorded in optima_run.json (a run of an older OPTIMA)"))
    return section("run", "The run", [definitions(facts), '<div class="columns">' + "".join(columns) + "</div>"])


def config_section(folder: Path) -> Raw:
    """The run-config the run executed (and the ``--defaults`` file), highlighted."""
    parts: list[str] = []
    for name, title in (("run_config.py", "run_config.py"), ("defaults_config.py", "defaults file (--defaults)")):
        text = read_text(folder / name)
        if text is None:
            if name == "run_config.py":
                parts.append(missing("run_config.py: not in the output folder"))
            continue
        parts += [f"<h3>{title}</h3>", code_block(highlight_python(text), highlighted=True)]
    return section("run-config", "The run-config", parts)


def _default_of(parameter: Any, resolved: dict[str, Any]) -> tuple[bool, Any]:
    """``(has a default, default as JSON)`` of one parameter; a derived default is the resolved source value."""
    from optima_core.config.parameters import Derived
    from optima_core.engine.output import jsonable

    if parameter.required:
        return False, None
    if isinstance(parameter.default, Derived):
        return True, resolved.get(parameter.default.source)
    return True, json.loads(json.dumps(jsonable(parameter.default)))


def changed_parameters(resolved: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """``(name, section, value, default)`` of every resolved parameter that differs from its default (required
    parameters always, with default ``"required"``), in the order of the parameter table."""
    from optima_core.config.parameters import PARAMETERS

    rows = []
    for parameter in PARAMETERS:
        if parameter.name not in resolved:
            continue
        value = resolved[parameter.name]
        has_default, default = _default_of(parameter, resolved)
        if not has_default:
            rows.append((parameter.name, parameter.section, value, "required"))
        elif value != default:
            rows.append((parameter.name, parameter.section, value, default))
    return rows


def _short(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def parameters_section(resolved: Any) -> Raw:
    """The table of resolved parameters that differ from the built-in defaults."""
    if not isinstance(resolved, dict):
        return section("parameters", "Parameters", [missing("resolved_config.json: missing or unreadable")])
    rows = [
        (name, where, _short(value), _short(default)) for name, where, value, default in changed_parameters(resolved)
    ]
    parts: list[str] = [
        paragraph(
            f"{len(rows)} of {len(resolved)} resolved parameters differ from their built-in defaults "
            "(all of them: resolved_config.json; with where each came from: optima check CONFIG)."
        ),
        table(["parameter", "section", "value", "default"], rows, id="changed-parameters"),
    ]
    return section("parameters", "Parameters that differ from their defaults", parts)


def _newest_time(path: Path) -> float | None:
    """The newest modification time of ``path`` and everything below it."""
    newest: float | None = None
    for root, _, files in os.walk(path):
        for name in [*files, "."]:
            try:
                stamp = os.stat(os.path.join(root, name)).st_mtime
            except OSError:
                continue
            newest = stamp if newest is None else max(newest, stamp)
    return newest


def _started(manifest: dict[str, Any]) -> float | None:
    try:
        return datetime.fromisoformat(str(manifest["started"])).astimezone(timezone.utc).timestamp()
    except (KeyError, ValueError):
        return None


def derived_stage_times(manifest: dict[str, Any], stage_folders: list[Path]) -> list[tuple[str, float]]:
    """``(stage folder, seconds)`` from file times: a stage ends with its newest file and starts where the one
    before ended (the first at the run's start, so it includes loading the inputs)."""
    times = []
    start = _started(manifest)
    for folder in stage_folders:
        end = _newest_time(folder)
        if end is None:
            continue
        if start is not None:
            times.append((folder.name, max(0.0, end - start)))
        start = end
    return times


def timing_section(manifest: dict[str, Any], stage_folders: list[Path]) -> Raw:
    """Wall time per phase as the run recorded it (``"phases"``), else per stage derived from file times."""
    phases = manifest.get("phases")
    if isinstance(phases, list) and phases:
        rows = []
        for phase in phases:
            if not isinstance(phase, dict):
                continue
            seconds = phase.get("seconds")
            rows.append(
                (
                    phase.get("phase", "?"),
                    phase.get("stage") or "-",
                    f"{seconds:.1f}" if isinstance(seconds, (int, float)) else "?",
                )
            )
        parts: list[str] = [table(["phase", "stage", "seconds"], rows, id="phases")]
        return section("timing", "Wall time", parts)
    derived = derived_stage_times(manifest, stage_folders)
    if not derived:
        return section("timing", "Wall time", [missing("Wall time: no stage has written anything yet")])
    parts = [
        paragraph(
            'The run recorded no phase timing (optima_run.json has no "phases"), so these times are derived from '
            "file times: a stage ends with its newest file and starts where the stage before ended (the first "
            "one at the run's start, so it includes loading the inputs)."
        ),
        table(["stage", "seconds (from file times)"], [(n, f"{s:.1f}") for n, s in derived], id="phases"),
    ]
    return section("timing", "Wall time", parts)
