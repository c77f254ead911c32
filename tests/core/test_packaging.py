"""What the pyproject files promise: TensorFlow only through optima-keras's extras, and floors the check can pin.

The floors themselves are tested by ``make test-floors`` (tools/check_floors.py), which installs them in a venv.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def _project(package: str) -> dict:
    with open(ROOT / package / "pyproject.toml", "rb") as file:
        return dict(tomllib.load(file)["project"])


def _check_floors() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_floors", ROOT / "tools" / "check_floors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_floors", module)
    spec.loader.exec_module(module)
    return module


def test_keras_requires_tensorflow_only_through_the_cpu_or_gpu_extra() -> None:
    project = _project("optima-keras")
    names = [requirement.split(">")[0].split("[")[0].strip() for requirement in project["dependencies"]]
    assert "keras" in names
    assert not [name for name in names if name.startswith("tensorflow")], project["dependencies"]
    extras = project["optional-dependencies"]
    assert any(requirement.startswith("tensorflow-cpu>=") for requirement in extras["cpu"])
    assert extras["gpu"] == ["tensorflow[and-cuda]>=2.18"]


def test_floor_pins_turn_lower_bounds_into_exact_versions() -> None:
    pins = _check_floors().floor_pins(
        [
            "numpy>=2.0",
            "ray[tune]>=2.41,<3",
            "torch>=2.4",
            "optima-core>=0.1,<0.2",
            "filelock",
            'tomli>=1.1; python_version < "3.11"',
        ]
    )
    assert pins == ["numpy==2.0", "ray==2.41", 'tomli==1.1; python_version < "3.11"']


def test_every_declared_dependency_of_the_checked_packages_has_a_floor() -> None:
    check_floors = _check_floors()
    for package, extra in check_floors.PACKAGES.items():
        requirements = check_floors.declared(package, extra)
        pinned = {pin.split("==")[0] for pin in check_floors.floor_pins(requirements)}
        for requirement in requirements:
            name = requirement.split(">")[0].split("[")[0].strip()
            assert name in pinned or name.startswith("optima-") or name in check_floors.NOT_PINNED, requirement
