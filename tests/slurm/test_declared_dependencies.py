"""optima-slurm declares every package it imports, for the Python versions that import it (``tomli`` on 3.10)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

PACKAGE = Path(__file__).resolve().parents[2] / "optima-slurm"


def imported_top_level_modules() -> set[str]:
    """Top-level names of every module optima-slurm's source imports, whatever branch the import sits in."""
    found: set[str] = set()
    for source in (PACKAGE / "src" / "optima_slurm").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.partition(".")[0])
    return found


def declared() -> dict[str, Requirement]:
    with open(PACKAGE / "pyproject.toml", "rb") as file:
        requirements = [Requirement(text) for text in tomllib.load(file)["project"]["dependencies"]]
    return {requirement.name.replace("-", "_"): requirement for requirement in requirements}


def test_every_third_party_import_is_declared() -> None:
    standard = set(sys.stdlib_module_names) | {"tomllib"}  # tomllib: the standard library from Python 3.11
    third_party = {name for name in imported_top_level_modules() if name not in standard and name != "optima_slurm"}
    assert "tomli" in third_party  # the Python 3.10 branch of sites.py
    missing = third_party - set(declared())
    assert not missing, f"optima-slurm imports {sorted(missing)} without declaring them in its pyproject.toml"


def test_tomli_is_required_exactly_where_tomllib_is_missing() -> None:
    tomli = declared()["tomli"]
    assert tomli.marker is not None
    assert tomli.marker.evaluate({"python_version": "3.10"})
    assert not tomli.marker.evaluate({"python_version": "3.11"})
    assert tomli.specifier.contains("2.0.0") and not tomli.specifier.contains("1.2.3")
