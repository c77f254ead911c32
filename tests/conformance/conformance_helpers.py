"""The backend conformance harness: one per backend, the same data and run-config for both.

The harness drives the core's epoch loop in-process (no Ray): it writes a run-config into ``tmp_path``, builds the
:class:`~optima_core.training.job.TrainingJob` with :func:`optima_core.engine.trial.build_job` (as a Tune trial
does), instantiates the backend registered for ``model_type`` and calls :func:`optima_core.training.loop.train`
with a :class:`Recorder` as the reporter. Everything that differs between the backends (metric classes, how to
read the optimizer's step count, the learning rate or the dropout rates, how to reload an exported model) lives
in one :class:`BackendKit` per backend, so the tests themselves are the same for both.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.config.loader import load_run_config
from optima_core.engine.trial import SEED_KEY, TrialSettings, build_job
from optima_core.inputs.dataset import EventData
from optima_core.training.job import RunReference, TrainingJob
from optima_core.training.loop import TrainingResult, train

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

VARIABLES = ["pt", "eta", "mass", "njets"]
N_TRAIN, N_VAL = 2000, 1000
SEED = 20240611
#: Tiny but complete: two hidden layers, so a batch normalisation (running statistics) is part of the state.
MODEL_CONFIG: dict[str, Any] = {
    "batch_size": 256,
    "num_layers": 2,
    "units": 8,
    "learning_rate": 1e-2,
    "dropout": 0.1,
}
STEPS_PER_EPOCH = -(-N_TRAIN // MODEL_CONFIG["batch_size"])

# -- data -------------------------------------------------------------------------------------------------------


def make_events(n: int, seed: int) -> EventData:
    """Binary, separable events with varying positive weights; heavy events sit near the class boundary.

    The weights depend on the distance to the boundary, so weighted and unweighted accuracies differ clearly.
    ``pt`` is positive (log10-scaled in the run-config) and ``njets`` a count, as in a physics sample.
    """
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 2, n)
    shift = 1.2 * (2 * target - 1)
    eta = rng.normal(0.0, 1.0, n) + shift
    mass = rng.normal(91.0, 4.0, n) + 3.0 * shift
    pt = np.exp(rng.normal(3.5, 0.4, n) + 0.3 * shift)
    njets = rng.poisson(2.0 + target).astype(np.float64)
    boundary_distance = np.abs(eta + (mass - 91.0) / 3.0) / 2.0
    weight = 0.2 + 2.5 * np.exp(-(boundary_distance**2)) * rng.uniform(0.5, 1.5, n)
    return EventData(
        {
            "Input": np.stack([pt, eta, mass, njets], axis=1),
            "Target": target.astype(np.float32),
            "Weight": weight,
        },
        VARIABLES,
    )


# -- what differs between the backends --------------------------------------------------------------------------


@dataclass(frozen=True)
class BackendKit:
    """The backend-specific parts of the suite; the checks themselves are backend-agnostic."""

    name: str
    frameworks: tuple[str, ...]
    #: Run-config source defining ``_Accuracy``, the backend's native binary accuracy class.
    metric_import: str
    suffix: str
    optimizer_steps: Callable[[Any], int]
    learning_rate: Callable[[Any], float]
    dropout_rates: Callable[[Any], list[float]]
    #: ``load_export(path) -> predict(inputs) -> outputs``, using only the framework's own loading API.
    load_export: Callable[[Path], Callable[[np.ndarray], np.ndarray]]


def _lightning_optimizer(backend: Any) -> Any:
    assert backend.trainer is not None, "the backend has not trained yet"
    (optimizer,) = backend.trainer.optimizers
    return optimizer


def _lightning_steps(backend: Any) -> int:
    steps = {int(state["step"]) for state in _lightning_optimizer(backend).state.values()}
    assert len(steps) <= 1, f"parameters disagree on the optimizer step: {steps}"
    return steps.pop() if steps else 0


def _lightning_learning_rate(backend: Any) -> float:
    return float(_lightning_optimizer(backend).param_groups[0]["lr"])


def _lightning_dropout(backend: Any) -> list[float]:
    from torch import nn

    return [m.p for m in backend.model.modules() if isinstance(m, (nn.Dropout, nn.AlphaDropout))]


def _lightning_load_export(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    from optima_lightning.mlp import LitModel

    model = LitModel.load_from_checkpoint(path, map_location="cpu")
    model.eval()

    def predict(inputs: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))).numpy()

    return predict


def _keras_steps(backend: Any) -> int:
    return int(backend.model.optimizer.iterations.numpy())


def _keras_learning_rate(backend: Any) -> float:
    return float(np.asarray(backend.model.optimizer.learning_rate))


def _keras_dropout(backend: Any) -> list[float]:
    import keras

    return [float(layer.rate) for layer in backend.model.layers if isinstance(layer, keras.layers.Dropout)]


def _keras_load_export(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    from optima_keras.models import load_model

    model = load_model(path)

    def predict(inputs: np.ndarray) -> np.ndarray:
        return np.asarray(model(inputs.astype(np.float32), training=False))

    return predict


KITS = {
    "Lightning": BackendKit(
        name="Lightning",
        frameworks=("lightning", "torch", "torchmetrics", "optima_lightning"),
        metric_import="from torchmetrics.classification import BinaryAccuracy as _Accuracy",
        suffix=".ckpt",
        optimizer_steps=_lightning_steps,
        learning_rate=_lightning_learning_rate,
        dropout_rates=_lightning_dropout,
        load_export=_lightning_load_export,
    ),
    "Keras": BackendKit(
        name="Keras",
        frameworks=("keras", "tensorflow", "optima_keras"),
        metric_import="from keras.metrics import BinaryAccuracy as _Accuracy",
        suffix=".keras",
        optimizer_steps=_keras_steps,
        learning_rate=_keras_learning_rate,
        dropout_rates=_keras_dropout,
        load_export=_keras_load_export,
    ),
}


# -- run-configs ------------------------------------------------------------------------------------------------

#: Metrics of every run-config of the suite: native, weighted native, custom and composite.
METRIC_SOURCE = """
from optima_core.metrics import WeightedAUC

native_metrics = [("accuracy", (_Accuracy, {}))]
weighted_native_metrics = [("weighted_accuracy", (_Accuracy, {}))]
custom_metrics = [("auc", WeightedAUC())]
composite_metrics = [("gap", ("train_loss", "val_loss"), lambda train, val: val - train)]
"""


def run_config_source(kit: BackendKit, extra: str = "") -> str:
    """Run-config source for ``kit``'s backend with fixed hyperparameters; ``extra`` lines override."""
    lines = [
        kit.metric_import,
        "perform_variable_opt = False",
        "perform_main_hyperopt = False",
        "perform_PBT_hyperopt = False",
        f"model_type = {kit.name!r}",
        f"input_vars = {VARIABLES!r}",
        "input_scaling = {'pt': ('log10', (1.0, 0.0))}",
        f"search_space = {MODEL_CONFIG!r}",
        textwrap.dedent(METRIC_SOURCE),
        textwrap.dedent(extra),
    ]
    return "\n".join(lines) + "\n"


#: The reference's LitModel contract: constructor (model_config, input_vars, metrics, weighted_metrics),
#: save_hyperparameters(), prepare(input_handler, data_module, first_prepare), 'val_loss' logged.
REFERENCE_LIT_MODEL = """
import torch
import lightning.pytorch as pl


class LitModel(pl.LightningModule):
    def __init__(self, model_config, input_vars, metrics, weighted_metrics):
        super().__init__()
        self.save_hyperparameters()
        self.model_config = model_config
        width = len(input_vars)
        self.register_buffer("offset", torch.zeros(width))
        self.register_buffer("scale", torch.ones(width))
        self.net = torch.nn.Sequential(
            torch.nn.Linear(width, model_config["units"]),
            torch.nn.ReLU(),
            torch.nn.Dropout(model_config["dropout"]),
            torch.nn.Linear(model_config["units"], 1),
        )

    def prepare(self, input_handler, data_module, first_prepare):
        if first_prepare:
            inputs = torch.cat([batch[0] for batch in data_module.train_dataloader()])
            self.offset = inputs.mean(dim=0)
            self.scale = inputs.std(dim=0) + 1e-6

    def forward(self, inputs):
        return torch.sigmoid(self.net((inputs - self.offset) / self.scale))

    def _loss(self, batch):
        if len(batch) == 3:
            x, y, w = batch
        else:
            (x, y), w = batch, None
        losses = torch.nn.functional.binary_cross_entropy(self(x), y.reshape(-1, 1).float(), reduction="none")
        w = torch.ones_like(losses) if w is None else w.reshape(-1, 1)
        return (w * losses).sum() / w.sum()

    def training_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self._loss(batch), on_step=False, on_epoch=True)

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return self(batch[0])

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.model_config["learning_rate"])
"""


# -- the reporter -----------------------------------------------------------------------------------------------


@dataclass
class Recorder:
    """The reporter given to ``train``: keeps every row, and a persistent copy of every checkpoint.

    For every checkpoint it also captures the backend's weights and optimizer step count at that moment.
    """

    kit: BackendKit
    store: Path
    backend: Any = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: dict[int, Path] = field(default_factory=dict)
    weights: dict[int, Any] = field(default_factory=dict)
    steps: dict[int, int] = field(default_factory=dict)

    def __call__(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
        row = dict(metrics)
        self.rows.append(row)
        if checkpoint_dir is not None:
            epoch = int(row["epoch"])
            target = self.store / f"epoch_{epoch}"
            shutil.copytree(checkpoint_dir, target)
            self.checkpoints[epoch] = target
            self.weights[epoch] = self.backend.get_weights()
            self.steps[epoch] = self.kit.optimizer_steps(self.backend)

    @property
    def epochs(self) -> list[int]:
        return [int(row["epoch"]) for row in self.rows]


@dataclass
class Harness:
    """Builds jobs and backends of one backend from run-configs written into ``root``."""

    kit: BackendKit
    root: Path
    data: dict[str, EventData]
    _ids: Any = field(default_factory=count)
    _managers: dict[int, Any] = field(default_factory=dict)

    def config(self, extra: str = "") -> Path:
        """Write a run-config (the suite's base plus ``extra``) to a new file; return its path."""
        path = self.root / f"run_config_{next(self._ids)}.py"
        path.write_text(run_config_source(self.kit, extra))
        return path

    def job(
        self,
        config: Path,
        *,
        max_epochs: int,
        checkpoint_frequency: int = 1,
        model_config: dict[str, Any] | None = None,
        use_gpu: bool = False,
    ) -> TrainingJob:
        """The job a Tune trial would build for ``config`` (fixed hyperparameters, the suite's data); ``use_gpu``
        as for a trial given a GPU."""
        settings = TrialSettings(
            reference=RunReference.of(load_run_config(config)),
            input_vars=tuple(VARIABLES),
            max_epochs=max_epochs,
            fixed_model_config=tuple((model_config or MODEL_CONFIG).items()),
            checkpoint_frequency=checkpoint_frequency,
            use_gpu=use_gpu,
        )
        workdir = self.root / f"work_{next(self._ids)}"
        workdir.mkdir()
        job, manager = build_job({SEED_KEY: SEED}, settings, dict(self.data), workdir)
        self._managers[id(job)] = manager
        return job

    def backend(self, job: TrainingJob) -> Any:
        """A new backend of the kind the run-config's ``model_type`` selects."""
        backend_class = self._managers[id(job)].descriptor("backend", job.run_config.model_type).load()
        assert backend_class.name == self.kit.name
        return backend_class(job)

    def recorder(self, backend: Any) -> Recorder:
        store = self.root / f"checkpoints_{next(self._ids)}"
        store.mkdir()
        return Recorder(self.kit, store, backend)

    def train(
        self,
        job: TrainingJob,
        backend: Any | None = None,
        *,
        checkpoint_dir: Path | None = None,
        restore_best_weights: bool = False,
    ) -> tuple[TrainingResult, Recorder, Any]:
        """Train ``job`` (with a new backend unless given); returns the result, the recorder and the backend."""
        backend = backend if backend is not None else self.backend(job)
        recorder = self.recorder(backend)
        result = train(job, backend, recorder, checkpoint_dir=checkpoint_dir, restore_best_weights=restore_best_weights)
        return result, recorder, backend
