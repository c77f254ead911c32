"""One training epoch of the built-in Lightning MLP under OPTIMA's Trainer vs. a plain PyTorch loop.

Usage: .venv/bin/python benchmarks/lightning_epoch.py [--events 1000000] [--batch-sizes 1024 256] [--repeats 3]
       [--trainer-steps 3000]

Generates ``events`` x 20 float32 inputs, a binary target and positive weights (seeded numpy arrays; the tensors
share their memory via ``torch.from_numpy``). One ``LitModel`` is built with a typical config (3 hidden layers of
32 units, swish, dropout 0.1, batch norm between hidden layers) and prepared once on a ``DefaultDataModule``
(normalisation fitted). Every timed epoch starts from a copy of that prepared model and a fresh Adam:

* **Lightning**: ``lightning.pytorch.Trainer`` with ``optima_lightning.backend.trainer_arguments``, as every trial
  (no logger, no checkpointing, no progress bar or model summary, no sanity check, no profiling, CPU, one device, no
  distributed sampler), ``max_epochs=1`` and ``limit_val_batches=0``, fed by the ``DefaultDataModule``'s shuffled
  ``TensorBatches``. The time is taken by a callback between ``on_train_epoch_start`` and ``on_train_epoch_end``,
  so Trainer setup is excluded.
* **Plain PyTorch**: the same modules and the same loss (``model.event_losses`` + ``model.regularization``, the
  objective of ``training_step``), ``configure_optimizers()``'s Adam, batches sliced from the same tensors with a
  fresh ``randperm`` per epoch (as ``TensorBatches``), ``zero_grad`` / ``backward`` / ``step`` per batch.

Each variant runs one warm-up epoch and then ``repeats`` timed epochs; the medians are compared. Both use
``torch.set_num_threads`` = the number of usable CPUs. Check: Lightning / plain <= 1.5 for every batch size;
exit status 1 if a check fails.

Last, the Trainer's own cost per optimizer step, without the model's: ``--trainer-steps`` steps of a module with
one parameter on one-element batches (SGD, learning rate 0), under the same Trainer and in a hand-written loop,
and the difference per step (a fixed cost, whatever the model and batch size). Not a check; it says how much of
the difference above no change to OPTIMA's own code can remove.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import statistics
import sys
import time
import warnings
from typing import Any

import numpy as np

MAX_RATIO = 1.5
NUM_VARIABLES = 20
MODEL_CONFIG: dict[str, Any] = {
    "num_layers": 3,
    "units": 32,
    "activation": "swish",
    "dropout": 0.1,
    "learning_rate": 1e-3,
    "loss_function": "BinaryCrossentropy",
}


class StandInInputHandler:
    """What ``LitModel.prepare`` needs of an InputHandler: the variables and their (identity) scalings."""

    def __init__(self, variables: list[str]) -> None:
        self.variables = variables

    def get_vars(self) -> list[str]:
        return list(self.variables)

    def get_nonlinear_scaling(self) -> dict[str, tuple[str, tuple[float, float]]]:
        return {name: ("linear", (1.0, 0.0)) for name in self.variables}


def load_average() -> str:
    """The 1/5/15-minute load averages, to tell a quiet machine from a busy one."""
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def make_events(n_events: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Columns Input ``[n, 20]`` float32, Target ``[n, 1]`` float32 (0/1) and Weight ``[n]`` float32 (> 0)."""
    rng = np.random.default_rng(seed)
    target = (rng.random(n_events) < 0.4).astype(np.float32)
    shift = np.array([0.3 * (i % 3) for i in range(NUM_VARIABLES)], dtype=np.float32)
    inputs = rng.standard_normal((n_events, NUM_VARIABLES), dtype=np.float32) + target[:, None] * shift
    weight = (rng.lognormal(0.0, 0.6, n_events) * np.where(target == 1, 0.02, 0.5)).astype(np.float32)
    return {"Input": inputs, "Target": target.reshape(-1, 1), "Weight": weight}


def prepared_model(events: dict[str, np.ndarray], batch_size: int) -> tuple[Any, Any]:
    """``(LitModel, DefaultDataModule)``: the built-in MLP built and its normalisation fitted, as the backend does."""
    from optima_lightning.data import DefaultDataModule
    from optima_lightning.mlp import LitModel

    variables = [f"var_{i:02d}" for i in range(NUM_VARIABLES)]
    handler = StandInInputHandler(variables)
    config = {**MODEL_CONFIG, "batch_size": batch_size}
    data_module = DefaultDataModule(None, config, handler, dataset_train=events, dataset_val=events, seed=0)
    data_module.setup("fit")
    model = LitModel(model_config=config, input_vars=handler.get_vars(), metrics=[], weighted_metrics=[])
    model.prepare(handler, data_module, first_prepare=True)
    return model, data_module


def timed_training_epoch(module: Any, **fit_arguments: Any) -> float:
    """Seconds of one training epoch of ``module`` under a Trainer configured like OPTIMA's Lightning backend (no
    validation); ``fit_arguments`` go to ``Trainer.fit``. Measured between ``on_train_epoch_start`` and
    ``on_train_epoch_end``, so the Trainer's set-up is excluded."""
    import lightning.pytorch as pl

    from optima_lightning.backend import trainer_arguments

    times: dict[str, float] = {}

    class EpochTimer(pl.Callback):  # type: ignore[misc]
        def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
            times["start"] = time.perf_counter()

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            times["end"] = time.perf_counter()

    trainer = pl.Trainer(**trainer_arguments(1, callbacks=[EpochTimer()], limit_val_batches=0))
    trainer.fit(module, **fit_arguments)
    return times["end"] - times["start"]


def lightning_epoch(model: Any, data_module: Any) -> float:
    """Seconds of one training epoch under a Trainer configured like OPTIMA's Lightning backend."""
    return timed_training_epoch(model, datamodule=data_module)


def plain_epoch(model: Any, tensors: tuple[Any, ...], batch_size: int, generator: Any) -> float:
    """Seconds of one epoch of a hand-written loop over the same modules, loss, optimiser and tensors."""
    import torch

    from optima_lightning import losses

    model.train()
    optimizer = model.configure_optimizers()
    n_events = len(tensors[0])
    start = time.perf_counter()
    order = torch.randperm(n_events, generator=generator)
    for first in range(0, n_events, batch_size):
        index = order[first : first + batch_size]
        batch = tuple(t[index] for t in tensors)
        _, _, loss, weights = model.event_losses(batch)
        objective = losses.weighted_mean(loss, weights) + model.regularization()
        optimizer.zero_grad()
        objective.backward()
        optimizer.step()
    return time.perf_counter() - start


def trainer_step_cost(steps: int, repeats: int) -> tuple[float, float]:
    """Median microseconds per step of a one-parameter module under the benchmark's Trainer and in a hand loop."""
    import lightning.pytorch as pl
    import torch

    class OneParameter(pl.LightningModule):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            return (self.weight * batch[0]).sum()

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.0)

    batch = (torch.ones(1),)

    class Batches:
        def __len__(self) -> int:
            return steps

        def __iter__(self) -> Any:
            return iter([batch] * steps)

    def under_trainer() -> float:
        return timed_training_epoch(OneParameter(), train_dataloaders=Batches()) / steps * 1e6

    def by_hand() -> float:
        module = OneParameter()
        optimizer = module.configure_optimizers()
        start = time.perf_counter()
        for index, item in enumerate(Batches()):
            loss = module.training_step(item, index)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return (time.perf_counter() - start) / steps * 1e6

    runs = [(under_trainer(), by_hand()) for _ in range(repeats + 1)][1:]  # the first pair warms up
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def measure(events: dict[str, np.ndarray], batch_size: int, repeats: int) -> dict[str, list[float]]:
    """Warm-up plus ``repeats`` timed epochs of each variant, alternating, each from a copy of the same model."""
    import torch

    from optima_lightning.data import tensors_of

    torch.manual_seed(0)
    base, data_module = prepared_model(events, batch_size)
    tensors = tensors_of(events)
    generator = torch.Generator().manual_seed(0)
    result: dict[str, list[float]] = {"lightning": [], "plain": []}
    for repeat in range(repeats + 1):
        lightning_s = lightning_epoch(copy.deepcopy(base), data_module)
        plain_s = plain_epoch(copy.deepcopy(base), tensors, batch_size, generator)
        if repeat > 0:  # repeat 0 is the warm-up
            result["lightning"].append(lightning_s)
            result["plain"].append(plain_s)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1024, 256])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trainer-steps", type=int, default=3000)
    options = parser.parse_args()

    import lightning
    import torch

    # Expected here: Lightning's hints about dataloader workers and about srun (where a SLURM client is installed),
    # and torch 2.13 deprecating the LeafSpec that Lightning's CombinedLoader still builds (once per fit).
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*`srun` command is available.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*", category=FutureWarning)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no "GPU available: False" per Trainer

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(cpus)
    events = make_events(options.events)
    print(
        f"{options.events} events x {NUM_VARIABLES} inputs; torch {torch.__version__}, lightning "
        f"{lightning.__version__}; torch threads {torch.get_num_threads()} (CPUs {cpus}); "
        f"{options.repeats} timed epochs per variant after 1 warm-up; load average {load_average()}"
    )
    print(f"model: {MODEL_CONFIG}")
    rows = []
    for batch_size in options.batch_sizes:
        result = measure(events, batch_size, options.repeats)
        lightning_s = statistics.median(result["lightning"])
        plain_s = statistics.median(result["plain"])
        steps = (options.events + batch_size - 1) // batch_size
        rows.append((batch_size, steps, result, lightning_s, plain_s, lightning_s / plain_s))

    print()
    print(
        "| batch size | steps | Lightning epoch (median; runs) | plain PyTorch epoch (median; runs) | ratio | check |"
    )
    print("|---|---|---|---|---|---|")
    ok = True
    for batch_size, steps, result, lightning_s, plain_s, ratio in rows:
        passed = ratio <= MAX_RATIO
        ok = ok and passed
        runs_l = ", ".join(f"{t:.2f}" for t in result["lightning"])
        runs_p = ", ".join(f"{t:.2f}" for t in result["plain"])
        print(
            f"| {batch_size} | {steps} | {lightning_s:.2f} s ({runs_l}) | {plain_s:.2f} s ({runs_p}) | "
            f"{ratio:.2f}x | {'OK' if passed else 'FAIL'} |"
        )
    print()
    for batch_size, steps, _, lightning_s, plain_s, _ in rows:
        overhead_us = (lightning_s - plain_s) / steps * 1e6
        print(f"batch size {batch_size}: Lightning overhead {overhead_us:.0f} us per step")
    trainer_us, hand_us = trainer_step_cost(options.trainer_steps, options.repeats)
    print(
        f"the Trainer's own cost per step (one-parameter module, {options.trainer_steps} steps): {trainer_us:.0f} us "
        f"under the Trainer, {hand_us:.0f} us by hand, {trainer_us - hand_us:.0f} us more per step"
    )
    print(f"load average at the end {load_average()} (other processes on the CPUs distort the times)")
    print(f"ratio <= {MAX_RATIO:g} for every batch size: {'OK' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
