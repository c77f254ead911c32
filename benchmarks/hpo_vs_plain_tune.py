"""The quickstart's main HPO through ``optima run`` vs. a hand-written plain Ray Tune + Optuna loop.

Usage: .venv/bin/python benchmarks/hpo_vs_plain_tune.py [--trials 6] [--epochs 15] [--repeats 1] [--cpus 2] [--keep]

Both sides tune the same MLP hyperparameters (``num_layers`` 1-3, ``units`` 16-64 log, ``learning_rate`` 3e-4 to 1e-2
log, ``dropout`` 0-0.2; ``batch_size`` 256) on ``examples/data/quickstart.parquet`` (20,000 events, 8 inputs),
with Optuna's TPESampler (same seed, same number of random start-up trials) behind Tune's ``OptunaSearch``, ASHA
(grace period 4, ``max_t`` = epochs, reduction factor 2), ``trials`` trials of at most ``epochs`` epochs,
``reuse_actors=True``, 1 CPU per trial on a local Ray with ``cpus`` CPUs. Each side runs in a fresh subprocess.

* **A, OPTIMA**: a run-config that copies ``examples/quickstart.py`` (only ``max_epochs`` and ``num_samples_main``
  changed, paths made absolute) is written into a temporary folder and ``optima run CONFIG --cpus N`` is timed as a whole. Its HPO
  phase (the ``Tuner.fit`` of the trials) is read from the Tune experiment folder
  ``<output>/main_hyperopt/tune/trials``: from the creation of ``tuner.pkl`` (written when the Tuner is built, just
  before ``fit``) to the last write of ``experiment_state-*.json`` (written when ``fit`` ends). The other phases
  (input checks and plots, selection, cross-validation and evaluation of best-value and best-fit) are taken from
  the modification times of the files they write.
* **B and C, hand-written** (``hand_written_tune.py``, each in its own subprocess): a typical user's script with
  the same data, scalings, search space, sampler, ASHA and resources, reporting ``val_loss`` after every epoch,
  without checkpoints. **B** trains the MLP as a minimal ``LightningModule`` with one ``Trainer`` per trial (the
  same training framework as A, so A / B is what OPTIMA itself costs; the target applies to it); **C** trains it in
  a plain PyTorch loop (the strictest baseline: it also contains Lightning's own per-step cost, which
  ``lightning_epoch.py`` measures separately). Their ``Tuner.fit`` is timed in the process, and also read from the
  experiment folder exactly as for A, so that the headline ratios compare like with like.

Also reported: the per-epoch ``time_this_iter_s`` of every trial (from Tune's ``result.json``; the first epoch
includes the trial's start-up: imports, building the model and, for OPTIMA, the run-config, plugins and Trainer),
the best ``val_loss`` of each side and the test ROC AUC of OPTIMA's cross-validated models (``evaluation.txt``,
mean over the folds, ``ScaledWeight``-weighted) next to B's and C's unweighted test AUC of their best trial at its
best epoch.
The loss values of the two sides are close but not identical in definition (OPTIMA's weights are normalised its
own way), and the two sides train on different random splits. ``--keep`` keeps the output folders. Target: HPO phase
A / B <= 1.15 (issue 14; it was 1.2 before); exit status 1 if the median ratio is above it. A / C is reported next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hand_written_tune import DATA, GRACE_PERIOD

MAX_RATIO = 1.15
REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "examples" / "quickstart.py"
ENVIRONMENT = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
#: The hand-written loops, by label: the framework their trainable trains with. The target applies to B.
BASELINES = {"B": "lightning", "C": "torch"}
TARGET_BASELINE = "B"


# -- reading Tune experiment folders ------------------------------------------------------------------------------


def tune_phase(experiment: Path) -> dict[str, Any]:
    """Start/end/duration of a Tuner.fit from its experiment folder, and the per-epoch times of every trial."""
    start = (experiment / "tuner.pkl").stat().st_mtime
    states = list(experiment.glob("experiment_state-*.json"))
    end = max(p.stat().st_mtime for p in states)
    trials = []
    for result_file in sorted(experiment.glob("*/result.json")):
        rows = [json.loads(line) for line in result_file.read_text().splitlines() if line.strip()]
        if rows:
            trials.append(
                {
                    "trial": rows[0].get("trial_id", result_file.parent.name),
                    "epochs": len(rows),
                    "iter_s": [float(r["time_this_iter_s"]) for r in rows],
                    "total_s": float(rows[-1]["time_total_s"]),
                    "val_loss": [float(r.get("val_loss", float("nan"))) for r in rows],
                }
            )
    return {"start": start, "end": end, "seconds": end - start, "trials": trials}


def epoch_summary(trials: list[dict[str, Any]]) -> dict[str, float]:
    """Sum of trial times, epochs, mean first epoch and median later epoch (the per-trial start-up shows here)."""
    firsts = [t["iter_s"][0] for t in trials if t["iter_s"]]
    laters = [s for t in trials for s in t["iter_s"][1:]]
    return {
        "trial_seconds": sum(t["total_s"] for t in trials),
        "epochs": sum(t["epochs"] for t in trials),
        "first_epoch_mean": statistics.fmean(firsts) if firsts else float("nan"),
        "later_epoch_median": statistics.median(laters) if laters else float("nan"),
    }


# -- A: optima run ----------------------------------------------------------------------------------------------


def write_run_config(folder: Path, trials: int, epochs: int) -> Path:
    """A copy of the quickstart with absolute paths, ``max_epochs`` = epochs and ``num_samples_main`` = trials."""
    text = QUICKSTART.read_text()
    replacements = {
        r'str\(Path\(__file__\)\.parent / "data" / "quickstart\.parquet"\)': repr(str(DATA)),
        r'output_path = "DNN_storage"': f"output_path = {str(folder / 'output')!r}",
        r"max_epochs = \d+": f"max_epochs = {epochs}",
        r"num_samples_main = \d+": f"num_samples_main = {trials}",
        r"ASHA_grace_period = \d+": f"ASHA_grace_period = {GRACE_PERIOD}",
    }
    for pattern, value in replacements.items():
        text, count = re.subn(pattern, value, text)
        if count != 1:
            raise RuntimeError(f"the quickstart changed: {pattern!r} not found once")
    path = folder / "hpo_config.py"
    path.write_text(text)
    return path


def parse_auc(evaluation: Path) -> list[float]:
    """The test-set values (mean over folds first) of the ROC AUC section of an ``evaluation.txt``."""
    values, in_auc = [], False
    for line in evaluation.read_text().splitlines():
        if not line.startswith(" "):
            in_auc = "AUC" in line
        elif in_auc and "(test" in line:
            values += [float(v) for v in re.findall(r"\d\.\d+", line.split(":")[-1])[:1]]
    return values


def optima_phases(stage: Path, phase: dict[str, Any], start: float, end: float) -> list[tuple[str, float]]:
    """The phases of an ``optima run``, each ending with the last file it writes, in the order they happened."""

    def written(pattern: str, base: Path = stage) -> float | None:
        times = [p.stat().st_mtime for p in base.glob(pattern) if p.is_file()]
        return max(times) if times else None

    marks = [
        ("imports, checks, input loading, ray.init", phase["start"]),
        ("main HPO (Tuner.fit)", phase["end"]),
        ("selection + search plots", written("[sm]*.*")),
        ("input plots", written("inputs/*", stage.parent)),
    ]
    for label in ("best_value", "best_fit"):
        marks.append(
            (f"cross-validation training, {label}", written(f"crossvalidation/{label}/model_fold*_history.csv"))
        )
        marks.append((f"evaluation + plots, {label}", written(f"crossvalidation/{label}/**/*")))
    marks.append(("Ray shutdown, exit", end))
    phases, previous = [], start
    for label, mark in sorted(((label, mark) for label, mark in marks if mark is not None), key=lambda m: m[1]):
        phases.append((label, mark - previous))
        previous = mark
    return phases


def run_optima(folder: Path, trials: int, epochs: int, cpus: int) -> dict[str, Any]:
    config = write_run_config(folder, trials, epochs)
    command = [str(REPO / ".venv" / "bin" / "optima"), "run", str(config), "--cpus", str(cpus)]
    command += ["--temp_dir", f"/tmp/optima-b-{os.getpid()}a"]
    start = time.time()
    run = subprocess.run(
        command, cwd=folder, env={**os.environ, **ENVIRONMENT}, capture_output=True, text=True, check=False
    )
    end = time.time()
    (folder / "optima_run.log").write_text(run.stdout + run.stderr)
    if run.returncode != 0:
        raise RuntimeError(f"optima run failed ({run.returncode}):\n{(run.stdout + run.stderr)[-3000:]}")
    stage = next((folder / "output").glob("*/main_hyperopt"))
    phase = tune_phase(stage / "tune" / "trials")
    phases = optima_phases(stage, phase, start, end)
    aucs = {}
    for evaluation in stage.glob("crossvalidation/*/**/evaluation.txt"):
        aucs[evaluation.relative_to(stage).parts[1]] = parse_auc(evaluation)
    best = min((min(t["val_loss"]) for t in phase["trials"]), default=float("nan"))
    return {
        "total_s": end - start,
        "hpo_s": phase["seconds"],
        "phases": phases,
        "trials": phase["trials"],
        "best_val_loss": best,
        "test_auc": aucs,
        "output": str(stage.parent),
    }


def run_plain(folder: Path, trials: int, epochs: int, cpus: int, framework: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).with_name("hand_written_tune.py")), str(folder)]
    command += ["--framework", framework]
    command += ["--trials", str(trials), "--epochs", str(epochs), "--cpus", str(cpus)]
    start = time.time()
    run = subprocess.run(command, env={**os.environ, **ENVIRONMENT}, capture_output=True, text=True, check=False)
    end = time.time()
    (folder / "plain_run.log").write_text(run.stdout + run.stderr)
    if run.returncode != 0:
        raise RuntimeError(f"the plain loop failed ({run.returncode}):\n{(run.stdout + run.stderr)[-3000:]}")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    phase = tune_phase(folder / "tune" / "trials")
    result.update({"process_s": end - start, "hpo_s": phase["seconds"], "trials": phase["trials"]})
    return result


# -- report -----------------------------------------------------------------------------------------------------


def print_trials(label: str, trials: list[dict[str, Any]]) -> None:
    summary = epoch_summary(trials)
    print(
        f"  {label}: {len(trials)} trials, {summary['epochs']} epochs, trial time {summary['trial_seconds']:.1f} s; "
        f"first epoch mean {summary['first_epoch_mean']:.2f} s, later epochs median {summary['later_epoch_median']:.3f} s"
    )
    for trial in trials:
        times = " ".join(f"{s:.2f}" for s in trial["iter_s"])
        print(
            f"    {trial['trial']}: {trial['epochs']:2d} epochs, best val_loss {min(trial['val_loss']):.4f}; s: {times}"
        )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the output folders (their path is printed)")
    options = parser.parse_args()

    ratios: dict[str, list[float]] = {label: [] for label in BASELINES}
    for repeat in range(options.repeats):
        folder = Path(tempfile.mkdtemp(prefix="optima-hpo-bench-"))
        plain: dict[str, dict[str, Any]] = {}
        try:
            print(f"repeat {repeat + 1}/{options.repeats}: load average before A {load_average()}")
            (folder / "optima").mkdir()
            a = run_optima(folder / "optima", options.trials, options.epochs, options.cpus)
            for label, framework in BASELINES.items():
                print(f"  load average before {label} {load_average()}")
                (folder / label).mkdir()
                plain[label] = run_plain(folder / label, options.trials, options.epochs, options.cpus, framework)
            print(f"  load average at the end {load_average()}")
        finally:
            if options.keep:
                print(f"  kept: {folder}")
            else:
                shutil.rmtree(folder, ignore_errors=True)
        print(f"  A optima run: total {a['total_s']:.1f} s, HPO phase (Tuner.fit) {a['hpo_s']:.1f} s")
        for label, seconds in a["phases"]:
            print(f"    {label}: {seconds:.1f} s")
        print_trials("A per-epoch time_this_iter_s", a["trials"])
        print(f"  A best val_loss {a['best_val_loss']:.4f}")
        for kind, values in sorted(a["test_auc"].items()):
            if values:
                print(f"  A test AUC ({kind}, mean over the folds): {', '.join(f'{v:.4f}' for v in values)}")
        for label, b in plain.items():
            ratio = a["hpo_s"] / b["hpo_s"]
            ratios[label].append(ratio)
            epochs_a, epochs_b = (sum(t["epochs"] for t in side["trials"]) for side in (a, b))
            print(
                f"  {label} ({BASELINES[label]}): total {b['process_s']:.1f} s (in-process {b['total_s']:.1f} s), "
                f"Tuner.fit {b['fit_s']:.1f} s timed / {b['hpo_s']:.1f} s from its folder"
            )
            print(
                f"  HPO phase A / {label} = {ratio:.2f}; per trained epoch ({epochs_a} vs {epochs_b} epochs: ASHA's "
                f"stops differ) {a['hpo_s'] / epochs_a:.3f} / {b['hpo_s'] / epochs_b:.3f} s = "
                f"{a['hpo_s'] / epochs_a / (b['hpo_s'] / epochs_b):.2f}; totals {a['total_s'] / b['process_s']:.2f}"
            )
            print_trials(f"{label} per-epoch time_this_iter_s", b["trials"])
            print(
                f"  {label} best val_loss {b['best_val_loss']:.4f}; test AUC of the best trial at its best epoch "
                f"{b['best_test_auc']:.4f} ({b['best_config']})"
            )
    for label, values in ratios.items():
        median = statistics.median(values)
        verdict = ("OK" if median <= MAX_RATIO else "ABOVE") if label == TARGET_BASELINE else "(reported)"
        print(
            f"HPO phase ratio A / {label} (median of {len(values)}: {', '.join(f'{v:.2f}' for v in values)}): "
            f"{median:.2f}; target <= {MAX_RATIO:g}: {verdict}"
        )
    return 0 if statistics.median(ratios[TARGET_BASELINE]) <= MAX_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
