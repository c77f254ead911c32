"""The results of one evaluated model: a template with one ``{}`` per value, the values, and the key of each value.

The ``evaluate`` hook returns ``(template, values)`` (the reference's contract). The built-in returns an
:class:`Evaluation`, which is that tuple and also knows the ``(group, name)`` key of every value (group: the split
``train``/``val``/``test``, or ``composite``), for ``evaluation.json``. For the result of a run-config
``evaluate`` the keys are read from the template with :func:`keys_from_template`: the heading line above and the
text before the placeholder. Example of the built-in template (binary, no metrics)::

    Loss (get_loss: the model's loss, events weighted with 'Weight'):
      training: {}
      validation: {}
    ROC AUC, one-vs-rest (weights 'ScaledWeight', events with negative weights excluded):
      Signal vs. Background (training): {}
      Signal vs. Background (validation): {}
"""

from __future__ import annotations

import math
import string
from typing import Any

SIGNIFICANT_DIGITS = 6

Key = tuple[str, str]


def escape(text: Any) -> str:
    """``text`` with its braces doubled, safe inside a ``str.format`` template."""
    return str(text).replace("{", "{{").replace("}", "}}")


def rounded(value: Any) -> Any:
    """A float rounded to 6 significant digits for the text; booleans and non-finite numbers stay as they are."""
    if isinstance(value, bool) or not isinstance(value, float) or not math.isfinite(value):
        return value
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


class Evaluation(tuple):
    """``(template, values)`` as the ``evaluate`` hook returns it, with :attr:`keys` and :attr:`notes`."""

    keys: list[Key]
    notes: list[str]

    def __new__(cls, template: str, values: list[Any], keys: list[Key], notes: list[str]) -> Evaluation:
        result = super().__new__(cls, (template, values))
        result.keys = keys
        result.notes = notes
        return result


class ResultsText:
    """Collects headings, ``label: {}`` lines with their values and keys, and notes."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.values: list[Any] = []
        self.keys: list[Key] = []
        self.notes: list[str] = []

    def heading(self, text: str) -> None:
        self.lines.append(escape(text))

    def value(self, label: str, value: Any, key: Key) -> None:
        self.lines.append(f"  {escape(label)}: {{}}")
        self.values.append(rounded(value))
        self.keys.append(key)

    def template(self) -> str:
        notes = ["Notes:", *(f"  - {escape(note)}" for note in self.notes)] if self.notes else []
        return "\n".join(self.lines + notes)

    def evaluation(self) -> Evaluation:
        return Evaluation(self.template(), self.values, self.keys, self.notes)


def keys_from_template(template: str) -> list[Key]:
    """A ``(heading, label)`` key for every placeholder of a template without keys (a run-config's ``evaluate``).

    The heading is the last line above without placeholders, the label the text before the placeholder (with
    ``[i]`` appended for the i-th further placeholder on the same line); a repeated key gets ``#`` appended.
    """
    keys: list[Key] = []
    heading = "values"
    for line in template.splitlines():
        parsed = list(string.Formatter().parse(line))
        fields = [literal for literal, field, _, _ in parsed if field is not None]
        if not fields:
            if line.strip():
                heading = line.strip().rstrip(":").strip()
            continue
        label = fields[0].strip().rstrip(":").strip() or "value"
        for index in range(len(fields)):
            name = label if index == 0 else f"{label} [{index}]"
            while (heading, name) in keys:
                name += "#"
            keys.append((heading, name))
    return keys
