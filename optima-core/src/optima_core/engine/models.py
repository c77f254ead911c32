"""Load a saved model of any backend, for evaluation or as a plain ``predict(inputs) -> outputs`` function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from optima_core.backends import LoadedModel
from optima_core.plugins.active import active_manager

if TYPE_CHECKING:
    from optima_core.plugins.manager import OptimaPluginManager

SPLITS = ("train", "val", "test")


def load_model(
    run_config: Any,
    model_path: str | Path,
    input_handler: Any,
    dataset_split: Sequence[Any],
    model_config: dict[str, Any] | None = None,
    *,
    manager: OptimaPluginManager | None = None,
) -> LoadedModel:
    """The model at ``model_path`` (``.keras``/``.ckpt``) loaded through its backend (``model_type``).

    ``manager`` is the run's plugin manager; inside a hook implementation (``evaluate``), whose signature cannot
    carry it, it defaults to the one the engine set (:func:`~optima_core.plugins.active.active_manager`).
    """
    manager = manager or active_manager("load_model")
    backend = manager.descriptor("backend", run_config.model_type).load()
    data = dict(zip(SPLITS, dataset_split, strict=False))
    return backend.load_model(
        Path(model_path), run_config, manager.hooks, input_handler, dict(model_config or {}), data
    )


def load_predictor(
    run_config: Any,
    model_path: str | Path,
    input_handler: Any,
    dataset_split: Sequence[Any],
    *,
    manager: OptimaPluginManager | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """``predict`` for the model at ``model_path``: :func:`load_model`'s ``predict``."""
    return load_model(run_config, model_path, input_handler, dataset_split, manager=manager).predict
