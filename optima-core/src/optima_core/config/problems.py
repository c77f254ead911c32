"""Problems found in a run-config, and the error that reports all of them at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optima_core.errors import OptimaUserError


def short_repr(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) and value.startswith("(") else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the run-config: where, the value found, what was expected, and a hint."""

    parameter: str
    value: Any
    expected: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.parameter} = {short_repr(self.value)}: expected {self.expected}"
        return f"{text}; {self.hint}" if self.hint else text


class ConfigError(OptimaUserError):
    """The run-config (or a command-line argument) cannot be used; lists every problem found."""

    def __init__(self, source: str, problems: list[Problem] | list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(self.render())

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its parts when it crosses a process boundary (a Ray worker to the driver).
        return (type(self), (self.source, self.problems))

    def render(self) -> str:
        count = len(self.problems)
        header = f"{self.source} has {count} problem{'s' if count != 1 else ''}:"
        return "\n".join([header, *(f"  - {p}" for p in self.problems)])
