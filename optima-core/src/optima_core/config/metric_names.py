"""Names a run-config refers to: the metrics training reports, and the closest known name for a typo.

Used by :mod:`optima_core.config.validation` to catch a metric named without its ``train_``/``val_`` prefix or
misspelled, and to suggest the parameter, backend or evaluator a user probably meant.
"""

from __future__ import annotations

import difflib
from typing import Any

from optima_core.config.problems import Problem


def closest_name(name: str, candidates: list[str] | tuple[str, ...], cutoff: float = 0.75) -> str | None:
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def metric_names(values: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key in ("native_metrics", "weighted_native_metrics", "custom_metrics"):
        entries = values.get(key)
        if isinstance(entries, (list, tuple)):
            names.extend(e[0] for e in entries if isinstance(e, (list, tuple)) and e and isinstance(e[0], str))
    return names


def composite_names(values: dict[str, Any]) -> list[str]:
    entries = values.get("composite_metrics")
    if not isinstance(entries, (list, tuple)):
        return []
    return [e[0] for e in entries if isinstance(e, (list, tuple)) and e and isinstance(e[0], str)]


def check_metric_reference(parameter: str, name: str, known: set[str], bare: list[str]) -> Problem | None:
    """Accept known names and anything a backend may report, but catch a missing prefix or a typo."""
    if name in known:
        return None
    if name in bare:
        return Problem(parameter, name, "a reported metric name", f"add the prefix: 'val_{name}' or 'train_{name}'")
    close = closest_name(name, sorted(known), cutoff=0.8)
    if close:
        return Problem(parameter, name, "a reported metric name", f"did you mean '{close}'?")
    return None


def reported_names(values: dict[str, Any]) -> tuple[set[str], list[str]]:
    """The metric names training reports (``train_``/``val_`` loss and metrics, composites), and the bare names."""
    bare = ["loss", *metric_names(values)]
    reported = {f"{prefix}_{name}" for prefix in ("train", "val") for name in bare}
    return reported | set(composite_names(values)), bare
