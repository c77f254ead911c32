"""Check that the declared dependency floors are true: install the oldest allowed versions and run tests there.

Reads the ``dependencies`` of optima-core, optima-lightning, optima-plots and optima-keras (with its ``[cpu]``
extra), turns every lower bound (``numpy>=2.0``) into an exact pin (``numpy==2.0``) and installs the packages with
those pins into a throwaway virtual environment (never the project's ``.venv``). Then it runs there the fast core,
plots and Keras tests, the tests that drive Ray Tune, Optuna and Ray Data, and one real ``optima run`` with a small
Lightning HPO. ``make test-floors`` runs it; ``make test`` does not.

torch is the one floor not installed: it stays at the CPU build pinned in ``constraints.txt``, since any other
torch release from the registry pulls several GB of CUDA wheels.

Usage: ``python3 tools/check_floors.py [--venv DIR] [--skip-install]``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
#: The packages installed, each with the extra it is installed with ("" for none).
PACKAGES = {"optima-core": "", "optima-lightning": "", "optima-plots": "", "optima-keras": "cpu"}
NOT_PINNED = {"torch"}
TEST_TOOLS = ("pytest>=8", "pytest-timeout>=2.3", "hypothesis>=6.100")
#: The fast core, plots and Keras tests, then the slow ones that drive Ray Tune, Optuna and Ray Data, and one
#: ``optima run``.
TEST_RUNS = (
    ("-m", "not slow", "tests/core", "tests/plots", "tests/keras"),
    (
        "tests/core/search/test_tuner_optuna_search.py",
        "tests/core/search/test_resumable_optuna_search.py",
        "tests/core/inputs/test_store.py",
        "tests/engine/test_optimization_chain.py::test_a_nan_trial_is_marked_failed_and_the_run_goes_on",
    ),
)
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*?)\s*(;.*)?$")


def floor_pins(requirements: list[str]) -> list[str]:
    """``name==floor`` (marker kept) for every requirement with a ``>=`` bound, torch and optima-* left out."""
    pins = []
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        if match is None:
            raise ValueError(f"cannot read the requirement {requirement!r}: expected 'name[extras] >=version; marker'")
        name, _, specifiers, marker = match.groups()
        floor = re.search(r">=\s*([^,\s]+)", specifiers)
        if floor is None or name.startswith("optima-") or name.lower() in NOT_PINNED:
            continue
        pins.append(f"{name}=={floor.group(1)}{marker or ''}")
    return pins


def declared(package: str, extra: str = "") -> list[str]:
    """The ``[project] dependencies`` of one package of this repository, plus those of ``extra``."""
    with open(ROOT / package / "pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    return [*project["dependencies"], *(project["optional-dependencies"][extra] if extra else [])]


def run(command: list[str], **kwargs: object) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=Path("/tmp/optima-floors"), help="the throwaway environment")
    parser.add_argument("--skip-install", action="store_true", help="reuse an environment installed before")
    args = parser.parse_args()
    venv = args.venv.resolve()
    if venv == (ROOT / ".venv").resolve():
        parser.error("--venv must not be the project's .venv")
    python = str(venv / "bin" / "python")

    pins = [pin for package, extra in PACKAGES.items() for pin in floor_pins(declared(package, extra))]
    floors = venv.parent / f"{venv.name}-floors.txt"
    if not args.skip_install:
        run([sys.executable, "-m", "venv", "--clear", str(venv)])
        floors.write_text("\n".join(pins) + "\n")
        print("floors:\n  " + "\n  ".join(pins), flush=True)
        pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        run([*pip, "-c", "constraints.txt", "torch==2.13.0"])
        run(
            [
                *pip,
                "-c",
                str(floors),
                *TEST_TOOLS,
                *(
                    f"--editable=./{package}[{extra}]" if extra else f"--editable=./{package}"
                    for package, extra in PACKAGES.items()
                ),
            ]
        )
    with open(venv / "installed.txt", "w") as installed:
        run([python, "-m", "pip", "list", "--format=freeze"], stdout=installed)

    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled", MPLBACKEND="Agg")
    failed = 0
    for selection in TEST_RUNS:
        command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection]
        failed += subprocess.run(command, cwd=ROOT, env=env, check=False).returncode != 0
    print(f"floor check {'FAILED' if failed else 'passed'}; installed versions: {venv / 'installed.txt'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
