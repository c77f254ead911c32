"""``optima --help``, ``--version`` and ``optima plugins`` must not import the heavy frameworks, nor NumPy.

Each command runs in a fresh interpreter (with every installed plugin loaded, as a user gets it) and reports which
top-level modules of the heavy libraries ended up in ``sys.modules``. Timings belong to the benchmarks, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("ray", "torch", "tensorflow", "lightning", "pytorch_lightning", "keras", "matplotlib", "optuna", "numpy")

PROBE = """
import contextlib, io, json, sys
from optima_core.cli import main

output = io.StringIO()
with contextlib.redirect_stdout(output):
    try:
        main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code or 0
heavy = set(json.loads({heavy!r}))
print(json.dumps({{"code": code, "output": output.getvalue(),
                  "heavy": sorted(m for m in sys.modules if m.split(".")[0] in heavy)}}))
"""


def _probe(*arguments: str, heavy: tuple[str, ...] = HEAVY) -> dict:
    source = PROBE.format(heavy=json.dumps(heavy))
    result = subprocess.run(
        [sys.executable, "-c", source, *arguments], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    ("arguments", "expected_output"),
    [
        (("--help",), "Commands:"),
        (("--version",), "optima "),
        (("plugins",), "NAME"),
        (("plugins", "--json"), '"plugins"'),
    ],
    ids=["help", "version", "plugins", "plugins-json"],
)
def test_command_imports_no_heavy_framework(arguments: tuple[str, ...], expected_output: str) -> None:
    report = _probe(*arguments)
    assert report["code"] == 0
    assert expected_output in report["output"], "the probe did not run the command"
    assert report["heavy"] == []


def test_the_probe_detects_imports() -> None:
    """The control: the same probe reports modules the command does import (click, the CLI's own library)."""
    report = _probe("--help", heavy=("click", "tensorflow"))
    assert report["code"] == 0
    assert "click" in report["heavy"] and "tensorflow" not in report["heavy"]
