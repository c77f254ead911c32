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
   time, the process tree's peak RSS (sampled every 0.2 s from /proc), the best-value cross-validated test AUC each
   tool reports, and the AUC of the same fold models on a common sample (below; scored after the run, not timed).
4. Optionally (``--lightning``) a row of ours with ``model_type = "Lightning"`` for the same work, against the
   original's Keras time.

**The common sample.** The tools split the events into training, validation and test differently, so each reports
its test AUC on other test events; with 4,000 of them the AUC's sampling error (about 0.002) hides any real
difference. Both tools' best-value fold models are therefore also scored on ``--common-events`` fresh events of the
same generator with another seed (``--common-seed``), events neither tool has seen, by ``common_sample_auc.py`` (the
original's ``.keras`` models in its venv, ours through the ONNX bundle), with one AUC definition for both.

It prints a table, the ratio of median wall times and the median common-sample AUCs, and exits with status 1 when
the ratio is above 0.3 (``--target``) or ours' median common-sample AUC is more than ``--auc-tolerance`` below the
original's. Results go into benchmarks/RESULTS.md by hand, with the machine state.

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
COMMON_AUC_SCRIPT = HERE / "common_sample_auc.py"


@dataclass
class Measurement:
    tool: str
    load_before: float
    wall_s: float
    peak_rss_mib: float
    test_auc: float | None
    exit_code: int
    #: Mean AUC of the best-value fold models on the common sample (see the module docstring).
    common_auc: float | None = None


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


def common_auc(python: Path, sample: Path, kind: str, pattern: Path, work: Path) -> float | None:
    """Mean AUC of the models matching ``pattern`` on the common sample (``common_sample_auc.py``), or None."""
    command = [str(python), str(COMMON_AUC_SCRIPT), "--sample", str(sample), kind, str(pattern)]
    done = subprocess.run(command, capture_output=True, text=True, env=environment(work), check=False)
    if done.returncode != 0:
        print(f"scoring {pattern} on the common sample failed:\n{done.stderr[-2000:]}", flush=True)
        return None
    return float(json.loads(done.stdout.strip().splitlines()[-1])["mean"])


def measure_original(venv: Path, config: Path, work: Path, index: int, sample: Path) -> Measurement:
    output = work / "out" / "original"
    subprocess.run(["rm", "-rf", output], check=True)
    load = os.getloadavg()[0]
    command = [str(venv / "bin" / "optima"), "-c", str(config), "--cpus", "3"]
    run = run_measured(command, work, environment(work), work / f"original_{index}.log", RUN_TIMEOUT_S)
    row = Measurement("original (Keras)", load, run.wall_s, run.peak_mib, original_auc(output), run.exit_code)
    models = output / "*" / "results" / "best_value" / "model_crossval_*.keras"
    row.common_auc = common_auc(venv / "bin" / "python", sample, "--original-keras", models, work)
    return row


def measure_ours(config: Path, work: Path, index: int, label: str, name: str, sample: Path) -> Measurement:
    output = work / "out" / name
    subprocess.run(["rm", "-rf", output], check=True)
    load = os.getloadavg()[0]
    command = [str(ROOT / ".venv" / "bin" / "optima"), "run", str(config)]
    run = run_measured(command, work, environment(work), work / f"{name}_{index}.log", RUN_TIMEOUT_S)
    row = Measurement(label, load, run.wall_s, run.peak_mib, ours_auc(output), run.exit_code)
    models = output / "*" / "*" / "crossvalidation" / "best_value" / "onnx" / "*.onnx"
    row.common_auc = common_auc(Path(sys.executable), sample, "--onnx", models, work)
    return row


def print_table(rows: list[Measurement]) -> None:
    print(
        f"\n{'tool':<22} {'load':>5} {'wall s':>8} {'peak RSS MiB':>13} {'test AUC':>9} {'common AUC':>11} {'exit':>5}"
    )
    for row in rows:
        auc = f"{row.test_auc:.4f}" if row.test_auc is not None else "?"
        common = f"{row.common_auc:.4f}" if row.common_auc is not None else "?"
        print(
            f"{row.tool:<22} {row.load_before:5.2f} {row.wall_s:8.1f} {row.peak_rss_mib:13.0f} {auc:>9} {common:>11} "
            f"{row.exit_code:5d}"
        )


def median_wall(rows: list[Measurement], tool: str) -> float:
    return statistics.median(row.wall_s for row in rows if row.tool == tool and row.exit_code == 0)


def median_common_auc(rows: list[Measurement], tool: str) -> float | None:
    values = [row.common_auc for row in rows if row.tool == tool and row.common_auc is not None]
    return statistics.median(values) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / ".run" / "bench-original")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--lightning", action="store_true", help="also run ours with model_type = 'Lightning'")
    parser.add_argument("--target", type=float, default=0.3, help="largest acceptable ratio of median wall times")
    parser.add_argument("--common-events", type=int, default=40_000, help="events of the common test sample")
    parser.add_argument("--common-seed", type=int, default=1014, help="its seed (the training data's is 14)")
    parser.add_argument(
        "--auc-tolerance", type=float, default=0.001, help="how far ours' common-sample AUC may be below the original's"
    )
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)

    venv = original_venv(work)
    dataset = work / f"dataset_{args.events}.pkl"
    if not dataset.exists():
        subprocess.run(
            [venv / "bin" / "python", DATASET_SCRIPT, "--events", str(args.events), "--pickle", dataset], check=True
        )
    sample = work / f"common_sample_{args.common_events}_{args.common_seed}.npz"
    if not sample.exists():
        command = [venv / "bin" / "python", DATASET_SCRIPT, "--events", str(args.common_events)]
        subprocess.run([*command, "--seed", str(args.common_seed), "--npz", sample], check=True)
    config_original = write_config(work, "original", dataset, {})
    config_ours = write_config(work, "ours", dataset, {})
    config_lightning = write_config(work, "ours_lightning", dataset, {"model_type": repr("Lightning")})

    rows: list[Measurement] = []
    for index in range(args.repeats):
        # alternate which tool goes first, so a drift in machine load hits both alike
        order = ["original", "ours"] if index % 2 == 0 else ["ours", "original"]
        for tool in order:
            if tool == "original":
                rows.append(measure_original(venv, config_original, work, index, sample))
            else:
                rows.append(measure_ours(config_ours, work, index, "OPTIMA (Keras)", "ours", sample))
            print_table(rows[-1:])
        if args.lightning:
            rows.append(measure_ours(config_lightning, work, index, "OPTIMA (Lightning)", "ours_lightning", sample))
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
    tools = ["original (Keras)", "OPTIMA (Keras)"] + (["OPTIMA (Lightning)"] if args.lightning else [])
    aucs = {tool: median_common_auc(rows, tool) for tool in tools}
    print(
        f"median AUC on the common sample ({args.common_events} fresh events): "
        + ", ".join(f"{tool} {value:.4f}" if value is not None else f"{tool} ?" for tool, value in aucs.items())
    )
    reference, ours = aucs["original (Keras)"], aucs["OPTIMA (Keras)"]
    difference = ours - reference if reference is not None and ours is not None else None
    auc_ok = difference is not None and difference >= -args.auc_tolerance
    shown = f"{difference:+.4f}" if difference is not None else "? (a scoring failed)"
    print(f"OPTIMA Keras - original on the common sample: {shown} (at least -{args.auc_tolerance})")
    return 0 if ratio <= args.target and auc_ok else 1


if __name__ == "__main__":
    sys.exit(main())
