"""The hand-written Ray Tune + Optuna loops that ``hpo_vs_plain_tune.py`` compares ``optima run`` with.

Usage (run by ``hpo_vs_plain_tune.py`` in a fresh subprocess; prints one JSON line with the timings):
.venv/bin/python benchmarks/hand_written_tune.py FOLDER --framework lightning|torch [--trials 6] [--epochs 15] [--cpus 2]

A typical user's script: pandas reads the quickstart sample, the quickstart's ``log10``/``sqrt`` scalings are
applied and the inputs standardised, a seeded 60/20/20 split, the arrays handed to the trials with
``tune.with_parameters``, Optuna's TPESampler behind ``OptunaSearch`` and ASHA. The trainable trains the same MLP
either as a minimal ``LightningModule`` with a ``Trainer`` (``lightning``) or in a plain PyTorch loop (``torch``)
and reports ``val_loss`` after every epoch, without checkpoints. It runs as ``__main__`` so that Ray pickles the
trainables by value (the workers need not find this folder on their path).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "examples" / "data" / "quickstart.parquet"
INPUT_VARS = ["pt_lep1", "pt_lep2", "eta_lep1", "eta_lep2", "m_ll", "met", "dphi_ll", "n_jets"]
SCALING = {"pt_lep1": "log10", "pt_lep2": "log10", "met": "sqrt"}
SEED = 42
GRACE_PERIOD = 4
REDUCTION_FACTOR = 2
BATCH_SIZE = 256


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
    best = float("inf")
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
            test_auc = float("nan")
            if val_loss < best:  # only for the quality line: about 0.6 ms, at improving epochs only
                best, test_auc = val_loss, auc(model(xt).squeeze(1).numpy(), arrays["y_test"])
        tune.report({"val_loss": val_loss, "epoch": epoch, "test_auc": test_auc})


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
            self.best = float("inf")
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
            test_auc = float("nan")
            if val_loss < self.best:  # only for the quality line: about 0.6 ms, at improving epochs only
                with torch.no_grad():
                    scores = self.net(torch.from_numpy(arrays["x_test"])).squeeze(1).numpy()
                self.best, test_auc = val_loss, auc(scores, arrays["y_test"])
            tune.report({"val_loss": val_loss, "epoch": self.current_epoch + 1, "test_auc": test_auc})

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


TRAINABLES = {"lightning": train_lightning, "torch": train_mlp}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--framework", choices=sorted(TRAINABLES), required=True)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--cpus", type=int, default=2)
    options = parser.parse_args()
    result = run_plain_inside(options.folder, options.trials, options.epochs, options.cpus, options.framework)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
