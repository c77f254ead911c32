"""Load a saved model of any backend as a plain ``predict(inputs) -> outputs`` function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.plugins.active import active_manager

SPLITS = ("train", "val", "test")


def load_predictor(
    run_config: Any, model_path: str | Path, input_handler: Any, dataset_split: Sequence[Any]
) -> Callable[[np.ndarray], np.ndarray]:
    """``predict`` for the model at ``model_path`` (``.keras``/``.ckpt``), through its backend (``model_type``)."""
    manager = active_manager(run_config)
    backend = manager.descriptor("backend", run_config.model_type).load()
    data = dict(zip(SPLITS, dataset_split, strict=False))
    return backend.load_predictor(Path(model_path), run_config, manager.hooks, input_handler, data)
