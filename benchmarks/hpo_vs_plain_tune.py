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
* **B and C, hand-written**: a typical user's script: pandas reads the Parquet file, the quickstart's ``log10``/``sqrt``
  scalings are applied and the inputs standardised, a seeded 60/20/20 split, the arrays handed to the trials with
  ``tune.with_parameters``; the trainable builds an MLP of the same shape (Linear, SiLU, BatchNorm between hidden
  layers, Dropout; sigmoid output; Adam with Keras' epsilon; class-balanced weighted binary crossentropy) and calls
  ``tune.report({"val_loss": ...})`` after every epoch, without checkpoints. **B** trains it as a minimal
  ``LightningModule`` with one ``Trainer`` per trial (the same training framework as A, so A / B is what OPTIMA
  itself costs; the target applies to it); **C** trains it in a plain PyTorch loop (the strictest baseline: it also
  contains Lightning's own per-step cost, which ``lightning_epoch.py`` measures separately). Their ``Tuner.fit`` is
  timed in the process, and also read from the experiment folder exactly as for A, so that the headline ratios
  compare like with like.

Also reported: the per-epoch ``time_this_iter_s`` of every trial (from Tune's ``result.json``; the first epoch
includes the trial's start-up: imports, building the model and, for OPTIMA, the run-config, plugins and Trainer),
the best ``val_loss`` of each side and the test ROC AUC of OPTIMA's cross-validated models (``evaluation.txt``,
mean over the folds, ``ScaledWeight``-weighted) next to B's and C's unweighted test AUC of their best trial at its
best epoch.
The loss values of the two sides are close but not identical in definition (OPTIMA's weights are normalised its
own way), and the two sides train on different random splits. ``--keep`` keeps the output folders. Target: HPO phase
A / B <= 1.2; exit status 1 if the median ratio is above it. A / C is reported next to it.
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

MAX_RATIO = 1.2
REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "examples" / "quickstart.py"
DATA = REPO / "examples" / "data" / "quickstart.parquet"
INPUT_VARS = ["pt_lep1", "pt_lep2", "eta_lep1", "eta_lep2", "m_ll", "met", "dphi_ll", "n_jets"]
SCALING = {"pt_lep1": "log10", "pt_lep2": "log10", "met": "sqrt"}
SEED = 42
GRACE_PERIOD = 4
REDUCTION_FACTOR = 2
BATCH_SIZE = 256
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


def optima_phases(stage: Path, start: float, end: float) -> list[tuple[str, float]]:
    """The phases of an ``optima run``, each ending with the last file it writes, in the order they happened."""
    phase = tune_phase(stage / "tune" / "trials")

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
    phases = optima_phases(stage, start, end)
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


# -- B: plain Ray Tune + Optuna ---------------------------------------------------------------------------------


def auc(scores: Any, labels: Any) -> float:
    """Unweighted ROC AUC from ranks (ties averaged)."""
    import numpy as np
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    positives = labels > 0.5
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)) if n_pos and n_neg else np.nan


def train_mlp(config: dict[str, Any], arrays: dict[str, Any], max_epochs: int) -> None:
    """The function trainable of the plain loop: build the MLP, train epoch by epoch, report val_loss."""
    import torch
    from ray import tune
    from torch import nn

    torch.manual_seed(SEED)
    model = build_mlp(config, arrays["x_train"].shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"], eps=1e-7)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    x, y, w = (torch.from_numpy(arrays[f"{k}_train"]) for k in ("x", "y", "w"))
    xv, yv, wv = (torch.from_numpy(arrays[f"{k}_val"]) for k in ("x", "y", "w"))
    xt = torch.from_numpy(arrays["x_test"])
    for epoch in range(1, max_epochs + 1):
        model.train()
        order = torch.randperm(len(x))
        for start in range(0, len(x), BATCH_SIZE):
            index = order[start : start + BATCH_SIZE]
            loss = (loss_fn(model(x[index]).squeeze(1), y[index]) * w[index]).sum() / w[index].sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = float((loss_fn(model(xv).squeeze(1), yv) * wv).sum() / wv.sum())
            test_scores = model(xt).squeeze(1).numpy()
        tune.report({"val_loss": val_loss, "epoch": epoch, "test_auc": auc(test_scores, arrays["y_test"])})


def build_mlp(config: dict[str, Any], width: int) -> Any:
    """The plain loops' MLP: Linear, SiLU, BatchNorm between hidden layers, Dropout; one logit out."""
    from torch import nn

    layers: list[nn.Module] = []
    for index in range(config["num_layers"]):
        layers += [nn.Linear(width, config["units"]), nn.SiLU()]
        if index < config["num_layers"] - 1:
            layers.append(nn.BatchNorm1d(config["units"], eps=1e-3, momentum=0.01))
        layers.append(nn.Dropout(config["dropout"]))
        width = config["units"]
    return nn.Sequential(*layers, nn.Linear(width, 1))


def train_lightning(config: dict[str, Any], arrays: dict[str, Any], max_epochs: int) -> None:
    """The Lightning trainable of the plain loop: the same MLP as a LightningModule, one Trainer, a report per epoch."""
    import lightning.pytorch as pl
    import torch
    from ray import tune
    from torch import nn

    class Batches:
        """Shuffled whole batches sliced from tensors (no per-event collation)."""

        def __init__(self, tensors: tuple[Any, ...], shuffle: bool) -> None:
            self.tensors, self.shuffle = tensors, shuffle

        def __len__(self) -> int:
            return (len(self.tensors[0]) + BATCH_SIZE - 1) // BATCH_SIZE

        def __iter__(self) -> Any:
            n = len(self.tensors[0])
            order = torch.randperm(n) if self.shuffle else torch.arange(n)
            for start in range(0, n, BATCH_SIZE):
                index = order[start : start + BATCH_SIZE]
                yield tuple(t[index] for t in self.tensors)

    class Module(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = build_mlp(config, arrays["x_train"].shape[1])
            self.loss_fn = nn.BCEWithLogitsLoss(reduction="none")

        def _loss(self, batch: Any) -> Any:
            x, y, w = batch
            return (self.loss_fn(self.net(x).squeeze(1), y) * w).sum() / w.sum()

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            return self._loss(batch)

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            x, y, w = batch
            self.val_sums = getattr(self, "val_sums", [0.0, 0.0])
            self.val_sums[0] += float((self.loss_fn(self.net(x).squeeze(1), y) * w).sum())
            self.val_sums[1] += float(w.sum())

        def on_validation_epoch_end(self) -> None:
            val_loss = self.val_sums[0] / self.val_sums[1]
            self.val_sums = [0.0, 0.0]
            with torch.no_grad():
                scores = self.net(torch.from_numpy(arrays["x_test"])).squeeze(1).numpy()
            epoch = self.current_epoch + 1
            tune.report({"val_loss": val_loss, "epoch": epoch, "test_auc": auc(scores, arrays["y_test"])})

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), lr=config["learning_rate"], eps=1e-7)

    torch.manual_seed(SEED)
    train = Batches(tuple(torch.from_numpy(arrays[f"{k}_train"]) for k in ("x", "y", "w")), shuffle=True)
    val = Batches(tuple(torch.from_numpy(arrays[f"{k}_val"]) for k in ("x", "y", "w")), shuffle=False)
    trainer = pl.Trainer(
        max_epochs=max_epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        accelerator="cpu",
        devices=1,
    )
    trainer.fit(Module(), train_dataloaders=train, val_dataloaders=val)


def prepare_arrays() -> dict[str, Any]:
    """Read, scale, standardise and split (60/20/20) the quickstart sample; class-balanced weights (mean 1)."""
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(DATA)
    x = frame[INPUT_VARS].to_numpy(np.float64, copy=True)
    for column, function in SCALING.items():
        i = INPUT_VARS.index(column)
        x[:, i] = np.log10(x[:, i]) if function == "log10" else np.sqrt(x[:, i])
    y = frame["target"].to_numpy(np.float32)
    w = frame["Weight"].to_numpy(np.float64)
    for label in (0, 1):
        w[y == label] *= len(y) / 2 / w[y == label].sum()
    order = np.random.default_rng(SEED).permutation(len(y))
    n_test = n_val = len(y) // 5
    parts = {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}
    mean, std = x[parts["train"]].mean(axis=0), x[parts["train"]].std(axis=0)
    x = ((x - mean) / std).astype(np.float32)
    arrays = {}
    for name, index in parts.items():
        arrays[f"x_{name}"], arrays[f"y_{name}"], arrays[f"w_{name}"] = x[index], y[index], w[index].astype(np.float32)
    return arrays


def run_plain_inside(folder: Path, trials: int, epochs: int, cpus: int, framework: str) -> dict[str, Any]:
    """Runs in a fresh subprocess: the whole plain script, timed."""
    start = time.time()
    import optuna
    import ray
    from optuna.distributions import FloatDistribution, IntDistribution
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    arrays = prepare_arrays()
    ray.init(
        num_cpus=cpus,
        include_dashboard=False,
        log_to_driver=False,
        _temp_dir=f"/tmp/optima-b-{os.getpid()}b",
    )
    space = {
        "num_layers": IntDistribution(1, 3),
        "units": IntDistribution(16, 64, log=True),
        "learning_rate": FloatDistribution(3e-4, 1e-2, log=True),
        "dropout": FloatDistribution(0.0, 0.2),
    }
    sampler = optuna.samplers.TPESampler(seed=SEED, multivariate=False, n_startup_trials=min(10, max(1, trials // 3)))
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(TRAINABLES[framework], arrays=arrays, max_epochs=epochs), {"cpu": 1}),
        tune_config=tune.TuneConfig(
            metric="val_loss",
            mode="min",
            search_alg=OptunaSearch(space=space, metric="val_loss", mode="min", sampler=sampler),
            scheduler=ASHAScheduler(
                time_attr="epoch", grace_period=GRACE_PERIOD, max_t=epochs, reduction_factor=REDUCTION_FACTOR
            ),
            num_samples=trials,
            reuse_actors=True,
            max_concurrent_trials=cpus,
        ),
        run_config=tune.RunConfig(name="trials", storage_path=str(folder / "tune"), verbose=0),
    )
    fit_start = time.time()
    results = tuner.fit()
    fit_end = time.time()
    best = results.get_best_result(metric="val_loss", mode="min", scope="all")
    frame = best.metrics_dataframe
    best_row = frame.loc[frame["val_loss"].idxmin()]
    ray.shutdown()
    end = time.time()
    return {
        "total_s": end - start,
        "fit_s": fit_end - fit_start,
        "best_val_loss": float(best_row["val_loss"]),
        "best_test_auc": float(best_row["test_auc"]),
        "best_config": {k: best.config[k] for k in sorted(best.config)},
    }


def run_plain(folder: Path, trials: int, epochs: int, cpus: int, framework: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--plain-inside", str(folder), "--framework", framework]
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
    parser.add_argument("--plain-inside", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--framework", choices=sorted(TRAINABLES), default="lightning", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.plain_inside:
        result = run_plain_inside(options.plain_inside, options.trials, options.epochs, options.cpus, options.framework)
        print(json.dumps(result))
        return 0

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


TRAINABLES = {"lightning": train_lightning, "torch": train_mlp}


if __name__ == "__main__":
    sys.exit(main())
