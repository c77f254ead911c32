"""Helpers of the evaluation tests: small separable samples and one trained model per backend and class count."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optima_core.builtin.input_handler import InputHandler
from optima_core.config.loader import RunConfig, load_run_config
from optima_core.inputs.dataset import EventData
from optima_core.plugins.manager import create_plugin_manager

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

VARS = ["a", "b", "c"]
CONFIG = {"batch_size": 128, "num_layers": 1, "units": 8}
LABELS = {2: ["Higgs", "Top"], 3: ["Higgs", "Top", "W"]}


def make_events(n: int, classes: int, seed: int) -> EventData:
    """Separable classes; ``ScaledWeight`` has about 10 % negative weights, ``Weight`` is positive."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, classes, n)
    x = rng.normal(size=(n, len(VARS))) - 1.5 * label[:, None]
    target = (label == 0).astype(np.float32) if classes == 2 else np.eye(classes)[label]
    scaled = rng.normal(1.0, 0.8, n)
    return EventData({"Input": x, "Target": target, "Weight": rng.uniform(0.5, 1.5, n), "ScaledWeight": scaled}, VARS)


def make_split(classes: int, with_test: bool = True) -> tuple[EventData, ...]:
    sizes = (600, 200, 200) if with_test else (600, 200)
    return tuple(make_events(n, classes, seed=10 * classes + i) for i, n in enumerate(sizes))


def run_config_for(tmp_path: Path, backend: str, extra: str = "", name: str = "") -> RunConfig:
    path = tmp_path / f"run_config_{backend}{name}.py"
    path.write_text(f"model_type = {backend!r}\ninput_vars = {VARS!r}\n{extra}")
    return load_run_config(path)


def handler_for(run_config: RunConfig) -> InputHandler:
    handler = InputHandler(run_config)
    handler.set_vars(VARS)
    return handler


def keras_model(tmp_path: Path, run_config: RunConfig, classes: int, split: tuple[EventData, ...]) -> Path:
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    from optima_keras.compile import compile_model
    from optima_keras.data import to_tensorflow_dataset
    from optima_keras.models import build_model

    keras.utils.set_random_seed(3)
    config = {**CONFIG, "loss_function": "BinaryCrossentropy" if classes == 2 else "CategoricalCrossentropy"}
    handler = handler_for(run_config)
    data = to_tensorflow_dataset(split[0], CONFIG["batch_size"])
    model = compile_model(build_model(config, handler, data), config, [], [], handler, data, True)
    model.fit(data, epochs=1, verbose=0)
    path = tmp_path / f"keras_{classes}.keras"
    model.save(path)
    return path


def lightning_model(tmp_path: Path, run_config: RunConfig, classes: int, split: tuple[EventData, ...]) -> Path:
    torch = pytest.importorskip("torch")
    lightning = pytest.importorskip("lightning")
    from optima_lightning.data import DefaultDataModule
    from optima_lightning.mlp import LitModel

    torch.manual_seed(3)
    handler = handler_for(run_config)
    config = {**CONFIG, "loss_function": "BinaryCrossentropy" if classes == 2 else "CategoricalCrossentropy"}
    model = LitModel(model_config=config, input_vars=VARS, metrics=[], weighted_metrics=[])
    module = DefaultDataModule(run_config, CONFIG, handler, dataset_train=split[0], dataset_val=split[1])
    module.setup("fit")
    model.prepare(handler, module, True)
    trainer = lightning.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, datamodule=module)
    path = tmp_path / f"lightning_{classes}.ckpt"
    state = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}
    torch.save({**state, "pytorch-lightning_version": lightning.__version__}, path)
    return path


BUILDERS = {"Keras": keras_model, "Lightning": lightning_model}


def train(backend: str, classes: int, tmp_path: Path) -> dict[str, Any]:
    run_config = run_config_for(tmp_path, backend)
    split = make_split(classes)
    path = BUILDERS[backend](tmp_path, run_config, classes, split)
    return {"backend": backend, "classes": classes, "run_config": run_config, "split": split, "path": path}


def evaluate(model: dict[str, Any], fig_dir: Path | None, **overrides: Any) -> Any:
    """The ``evaluate`` hook of a manager built for the model's (or the given) run-config."""
    from optima_core.plugins.active import using_manager

    run_config = overrides.pop("run_config", model["run_config"])
    manager = create_plugin_manager(run_config_module=run_config.module)
    arguments = {
        "run_config": run_config,
        "model_path": model["path"],
        "model_config": dict(CONFIG),
        "dataset_split": model["split"],
        "input_handler": handler_for(run_config),
        "fig_dir": fig_dir,
        "native_metrics": [],
        "weighted_native_metrics": [],
        "custom_metrics": [],
        "composite_metrics": [],
        "class_labels": LABELS[model["classes"]],
        "cpus": 1,
        "print_results": False,
        "return_unfilled": True,
        **overrides,
    }
    with using_manager(manager):
        return manager.hooks.evaluate(**arguments)


def values_by_key(outcome: Any) -> dict[tuple[str, str], Any]:
    """``(split, name) -> value`` of the built-in's result."""
    return dict(zip(outcome.keys, outcome[1], strict=True))


def hand_loss(data: EventData, predictions: np.ndarray) -> float:
    """The event-weighted cross-entropy (the built-in models' loss)."""
    p = np.clip(predictions.astype(np.float64), 1e-7, 1 - 1e-7)
    y = data["Target"].astype(np.float64).reshape(len(data), -1)
    if y.shape[1] == 1:
        per_event = -(y * np.log(p) + (1 - y) * np.log(1 - p))[:, 0]
    else:
        per_event = -(y * np.log(p)).sum(axis=1)
    w = data["Weight"].astype(np.float64)
    return float(np.sum(w * per_event) / np.sum(w))
