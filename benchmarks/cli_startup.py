"""How fast does the ``optima`` CLI answer? Times ``optima --help`` and ``optima plugins`` as subprocesses.

Usage: .venv/bin/python benchmarks/cli_startup.py [--repeats 10]
Prints the median and worst wall time of each command, and which heavy libraries (if any) each one imported.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("ray", "torch", "tensorflow", "lightning", "keras", "matplotlib", "optuna")
PROBE = (
    "import sys; from optima_core.cli import main\n"
    "try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
    "print('HEAVY=' + ','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))), file=sys.stderr)"
)


def time_command(script: Path, args: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([str(script), *args], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def heavy_imports(args: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)], capture_output=True, text=True, check=False
    )
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("HEAVY=")]
    return line[-1].removeprefix("HEAVY=") if line else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    options = parser.parse_args()
    script = Path(sys.executable).with_name("optima")
    for args in (["--help"], ["plugins"]):
        times = time_command(script, args, options.repeats)
        print(
            f"optima {' '.join(args):10s} median {statistics.median(times) * 1000:6.0f} ms   "
            f"worst {max(times) * 1000:6.0f} ms   heavy imports: {heavy_imports(args) or 'none'}"
        )


if __name__ == "__main__":
    main()
