"""The error raised for input data that cannot be trained on.

:class:`InputDataError` is a :class:`~optima_core.config.problems.ConfigError`, so the CLI prints it as a user
error (no traceback). Each problem names the file, the column or variable, the value or count found and what is
expected; all problems found by one check are reported together.
"""

from __future__ import annotations

from typing import Any

from optima_core.config.problems import ConfigError, Problem


class InputDataError(ConfigError):
    """The input data (or a dataset returned by a hook) cannot be used; raised before any training starts."""


def data_error(source: Any, subject: str, found: Any, expected: str, hint: str = "") -> InputDataError:
    """One problem with ``source`` (a path or a description): ``subject = found: expected ...; hint``."""
    return InputDataError(describe_source(source), [Problem(subject, found, expected, hint)])


def describe_source(source: Any) -> str:
    """The header of an error about ``source``: ``The input file 'x.parquet'`` or ``The input data (...)``."""
    if source is None:
        return "The input data"
    text = str(source)
    return text if text.startswith("The ") else f"The input file '{text}'"
