"""OPTIMA against the original tool (``optima-ml`` from PyPI), side by side, on the original's own run-config.

What it does, in order:

1. Installs the original (``optima-ml[keras]``, pre-release allowed, the version below) into its own venv under the
   work folder, unless that venv already imports it. The original pins numpy<2, pandas<3, pyarrow<21, Ray 2.11,
   Optuna 3.6 and TensorFlow 2.15.1 itself; nothing else needs pinning here.
2. Writes an original-layout pickle dataset with THAT venv's numpy (a pickle written by numpy 2 does not load under
   numpy 1; numpy 2 reads numpy 1's): ``benchmarks/make_original_dataset.py`` (14 variables, a few of them noise,
   float32 columns, a few negative weights).
3. Runs the original-format run-config ``benchmarks/configs/original_format.py`` through both tools, alternating:
   the original as ``optima -c config.py --cpus 3`` (it refuses fewer than 3 CPUs), ours as ``optima run config.py``
   with the default CPUs. Each run gets a fresh output folder. Recorded per run: the load average before it, wall
   time, the process tree's peak RSS (sampled every 0.2 s from /proc), and the best-value cross-validated test AUC.
4. Optionally (``--lightning``) a row of ours with ``model_type = "Lightning"`` for the same work, against the
   original's Keras time.

It prints a table and the ratio of median wall times, and exits with status 1 when that ratio is above 0.3
(``--target``). Results go into benchmarks/RESULTS.md by hand, with the machine state.

    .venv/bin/python benchmarks/vs_original.py --repeats 3 [--lightning] [--work .run/bench-original]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from process_tree import environment, run_measured

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ORIGINAL_REQUIREMENT = "optima-ml[keras]==0.4.0a7"
CONFIG_TEMPLATE = HERE / "configs" / "original_format.py"
DATASET_SCRIPT = HERE / "make_original_dataset.py"


@dataclass
class Measurement:
    tool: str
    load_before: float
    wall_s: float
    peak_rss_mib: float
    test_auc: float | None
    exit_code: int


#: A run that takes longer is stopped and counted as failed (the original retries a failing trial forever).
RUN_TIMEOUT_S = 1800


# -- the two tools ---------------------------------------------------------------------------------------------------


def original_venv(work: Path) -> Path:
    """The original's venv, installed when it does not import yet."""
    venv = work / "venv"
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", "import OPTIMA"], capture_output=True).returncode == 0:
        return venv
    print(f"installing {ORIGINAL_REQUIREMENT} into {venv} (several minutes: TensorFlow 2.15) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--pre", ORIGINAL_REQUIREMENT],
        check=True,
    )
    return venv


def write_config(work: Path, name: str, dataset: Path, replacements: dict[str, str]) -> Path:
    """A copy of the original-format run-config with its own output folder (and ``replacements``)."""
    text = CONFIG_TEMPLATE.read_text()
    settings = {"inputs_file": repr(str(dataset)), "output_path": repr(str(work / "out" / name)), **replacements}
    for key, value in settings.items():
        text, count = re.subn(rf"^{key}\s*=.*$", f"{key} = {value}", text, flags=re.MULTILINE)
        if count == 0:
            text += f"\n{key} = {value}\n"
    path = work / f"config_{name}.py"
    path.write_text(text)
    return path


def ours_auc(output: Path) -> float | None:
    """Cross-validated test ROC AUC of ours' best-value selection: ``average.test.roc_auc.value`` of its
    evaluation.json (schema: optima_core/evaluation/results.py)."""
    for path in sorted(output.glob("**/crossvalidation/best_value/evaluation.json")):
        test = json.loads(path.read_text()).get("average", {}).get("test", {})
        if "roc_auc" in test:
            return float(test["roc_auc"]["value"])
    return None


def original_auc(output: Path) -> float | None:
    """The original's averaged test ROC AUC of its best-value cross-validation, from its ``results/results.txt``
    (a ``.../best_value:`` heading, then ``AUC (testing): mean +- spread (per fold)``)."""
    for path in sorted(output.glob("**/results/results.txt")):
        match = re.search(
            r"best_value:\s*\n(?:.*\n)*?\s*AUC \(testing\):\s*([0-9.]+)", path.read_text(errors="replace")
        )
        if match:
            return float(match.group(1))
    return None


def measure_original(venv: Path, config: Path, work: Path, index: int) -> Measurement:
    output = work / "out" / "original"
    subprocess.run(["rm", "-rf", output], check=True)
    load = os.getloadavg()[0]
    command = [str(venv / "bin" / "optima"), "-c", str(config), "--cpus", "3"]
    run = run_measured(command, work, environment(work), work / f"original_{index}.log", RUN_TIMEOUT_S)
    return Measurement("original (Keras)", load, run.wall_s, run.peak_mib, original_auc(output), run.exit_code)


def measure_ours(config: Path, work: Path, index: int, label: str, name: str) -> Measurement:
    output = work / "out" / name
    subprocess.run(["rm", "-rf", output], check=True)
    load = os.getloadavg()[0]
    command = [str(ROOT / ".venv" / "bin" / "optima"), "run", str(config)]
    run = run_measured(command, work, environment(work), work / f"{name}_{index}.log", RUN_TIMEOUT_S)
    return Measurement(label, load, run.wall_s, run.peak_mib, ours_auc(output), run.exit_code)


def print_table(rows: list[Measurement]) -> None:
    print(f"\n{'tool':<22} {'load':>5} {'wall s':>8} {'peak RSS MiB':>13} {'test AUC':>9} {'exit':>5}")
    for row in rows:
        auc = f"{row.test_auc:.4f}" if row.test_auc is not None else "?"
        print(
            f"{row.tool:<22} {row.load_before:5.2f} {row.wall_s:8.1f} {row.peak_rss_mib:13.0f} {auc:>9} {row.exit_code:5d}"
        )


def median_wall(rows: list[Measurement], tool: str) -> float:
    return statistics.median(row.wall_s for row in rows if row.tool == tool and row.exit_code == 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / ".run" / "bench-original")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--lightning", action="store_true", help="also run ours with model_type = 'Lightning'")
    parser.add_argument("--target", type=float, default=0.3, help="largest acceptable ratio of median wall times")
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)

    venv = original_venv(work)
    dataset = work / f"dataset_{args.events}.pkl"
    if not dataset.exists():
        subprocess.run(
            [venv / "bin" / "python", DATASET_SCRIPT, "--events", str(args.events), "--pickle", dataset], check=True
        )
    config_original = write_config(work, "original", dataset, {})
    config_ours = write_config(work, "ours", dataset, {})
    config_lightning = write_config(work, "ours_lightning", dataset, {"model_type": repr("Lightning")})

    rows: list[Measurement] = []
    for index in range(args.repeats):
        # alternate which tool goes first, so a drift in machine load hits both alike
        order = ["original", "ours"] if index % 2 == 0 else ["ours", "original"]
        for tool in order:
            if tool == "original":
                rows.append(measure_original(venv, config_original, work, index))
            else:
                rows.append(measure_ours(config_ours, work, index, "OPTIMA (Keras)", "ours"))
            print_table(rows[-1:])
        if args.lightning:
            rows.append(measure_ours(config_lightning, work, index, "OPTIMA (Lightning)", "ours_lightning"))
            print_table(rows[-1:])

    print_table(rows)
    failed = [row for row in rows if row.exit_code != 0]
    if failed:
        print(f"\n{len(failed)} run(s) failed; see the logs in {work}")
        return 1
    original = median_wall(rows, "original (Keras)")
    ratio = median_wall(rows, "OPTIMA (Keras)") / original
    print(
        f"\nmedian wall time: original {original:.1f} s; OPTIMA Keras / original = {ratio:.2f} (target <= {args.target})"
    )
    if args.lightning:
        print(f"OPTIMA Lightning / original Keras = {median_wall(rows, 'OPTIMA (Lightning)') / original:.2f}")
    return 0 if ratio <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
