"""Errors of a run that are the user's to read, not bugs (the CLI prints them without a traceback)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from optima_core.errors import OptimaUserError, find_user_error


class OptimizationFailedError(OptimaUserError):
    """Every trial of a stage failed: there is nothing to select."""


def no_results_error(stage: str, results: Iterable[Any], tune_folder: Path) -> OptimizationFailedError:
    """The error for a stage none of whose trials reported a result.

    ``results`` are Ray Tune's results of the trials (each with ``error``). When trials failed on something the
    user can fix (a custom metric returning a list, a hook returning an unusable dataset), its message is quoted,
    once per distinct message; otherwise the error names the first trial's error in one line and points to Tune's
    error files for the tracebacks.
    """
    errors = [result.error for result in results if result.error is not None]
    user_errors = [found for error in errors if (found := find_user_error(error)) is not None]
    reasons = list(dict.fromkeys(str(error) for error in user_errors))
    text = f"[{stage}] none of the {len(errors)} trials reported a result"
    if reasons:
        return OptimizationFailedError(f"{text}; the trials failed with: {'; '.join(reasons)}")
    first = f"; the first failed with {_one_line(errors[0])}" if errors else ""
    return OptimizationFailedError(f"{text}{first}; see the error files under {tune_folder}")


def _one_line(error: BaseException) -> str:
    """``Type: message`` of ``error`` (of the original exception when Ray wrapped it), on one line."""
    cause = getattr(error, "cause", None)
    original = cause if isinstance(cause, BaseException) else error
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0]}" if lines else type(original).__name__
