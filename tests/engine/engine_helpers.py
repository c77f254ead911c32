"""Helpers of the end-to-end tests of ``optima run`` (main HPO, PBT, selection, cross-validation, resume).

Everything is tiny so that a whole chain fits in about a minute on two cores: 3000 events with 4 variables, one
hidden layer of 8 units, a handful of epochs and trials, and two cross-validation folds
(``validation_fraction = 0.4``, ``test_fraction = 0.2``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

VARIABLES = ["pt", "eta", "mass", "njets"]
N_EVENTS = 3000
FOLDS = 2  # (1 - test_fraction) / validation_fraction

#: The searched hyperparameters of every run-config here (learning rate and dropout are mutatable for PBT).
SEARCH_SPACE = """
search_space = {
    "batch_size": 256,
    "num_layers": 1,
    "units": 8,
    "learning_rate": {"type": "range", "bounds": [4e-3, 3e-2], "sampling": "log"},
    "dropout": {"type": "range", "bounds": [0.0, 0.2]},
}
"""


@dataclass(frozen=True)
class Backend:
    name: str
    frameworks: tuple[str, ...]
    suffix: str
    #: ``load(path) -> predict(inputs) -> outputs`` with the framework's own loading API.
    load: Callable[[Path], Callable[[np.ndarray], np.ndarray]]


def _load_lightning(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    from optima_lightning.mlp import LitModel

    model = LitModel.load_from_checkpoint(path, map_location="cpu")
    model.eval()

    def predict(inputs: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))).numpy()

    return predict


def _load_keras(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    from optima_keras.models import load_model

    model = load_model(path)

    def predict(inputs: np.ndarray) -> np.ndarray:
        return np.asarray(model(inputs.astype(np.float32), training=False))

    return predict


BACKENDS = {
    "Lightning": Backend("Lightning", ("lightning", "torch", "optima_lightning"), ".ckpt", _load_lightning),
    "Keras": Backend("Keras", ("keras", "tensorflow", "optima_keras"), ".keras", _load_keras),
}


def write_events(path: Path, n: int = N_EVENTS, seed: int = 7) -> Path:
    """A separable signal/background sample in the layout of the input tests (variables, Weight, EventNumber, target)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    target = (rng.random(n) < 0.5).astype(np.int8)
    shift = 1.2 * (2 * target - 1)
    frame = pd.DataFrame(
        {
            "pt": np.exp(rng.normal(3.5, 0.4, n) + 0.3 * shift),
            "eta": rng.normal(0.0, 1.0, n) + shift,
            "mass": rng.normal(91.0, 4.0, n) + 3.0 * shift,
            "njets": rng.poisson(2.0, n).astype(np.float64),
        }
    )
    frame["Weight"] = rng.lognormal(0.0, 0.3, n) * np.where(target == 1, 0.01, 0.5)
    frame["EventNumber"] = rng.permutation(n).astype(np.int64) + 1000
    frame["target"] = target
    frame.to_parquet(path, index=False)
    return path


def sample_inputs(n: int = 64) -> np.ndarray:
    """Raw model inputs in the variables' ranges (``pt`` positive: it is log10-scaled)."""
    rng = np.random.default_rng(0)
    inputs = np.stack(
        [
            np.exp(rng.normal(3.5, 0.5, n)),
            rng.normal(0.0, 1.5, n),
            rng.normal(91.0, 6.0, n),
            rng.poisson(2.0, n).astype(np.float64),
        ],
        axis=1,
    )
    return inputs.astype(np.float32)


ConfigWriter = Callable[..., Path]


@dataclass
class CliOutcome:
    exit_code: int
    output: str
    exception: BaseException | None

    def describe(self) -> str:
        return f"exit {self.exit_code}\n{self.output}\n{self.exception!r}"
