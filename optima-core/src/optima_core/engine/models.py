"""Load a saved model of any backend, for evaluation or as a plain ``predict(inputs) -> outputs`` function.

Inside :func:`sharing_loaded_models`, a file loaded a second time (unchanged on disk, through the same backend, with
the same run-config, input handler, model config and data objects) is the model loaded the first time: the
worker that trained a cross-validation model evaluates it and exports it to ONNX from one load.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from optima_core.backends import LoadedModel
from optima_core.plugins.active import active_manager

if TYPE_CHECKING:
    from optima_core.plugins.manager import OptimaPluginManager

SPLITS = ("train", "val", "test")

_shared: ContextVar[dict[tuple[Any, ...], LoadedModel] | None] = ContextVar("optima_shared_models", default=None)


@contextlib.contextmanager
def sharing_loaded_models() -> Iterator[None]:
    """Within the block, :func:`load_through_backend` returns the already loaded model for the same file and inputs.

    Only for code that does not change the loaded model (evaluation, export): they all get the same object.
    """
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def load_through_backend(
    backend: Any,
    path: Path,
    run_config: Any,
    hooks: Any,
    input_handler: Any,
    model_config: dict[str, Any],
    data: dict[str, Any],
) -> LoadedModel:
    """``backend.load_model(...)``; within :func:`sharing_loaded_models`, the model loaded from the same file (same
    size and modification time) with the same arguments, if there is one."""
    shared = _shared.get()
    if shared is None:
        return backend.load_model(path, run_config, hooks, input_handler, model_config, data)
    stat = path.stat()
    key = (
        str(path.resolve()),
        stat.st_mtime_ns,
        stat.st_size,
        id(backend),
        id(run_config),
        id(input_handler),
        repr(sorted(model_config.items())),
        tuple((name, id(part)) for name, part in data.items()),
    )
    loaded = shared.get(key)
    if loaded is None:
        loaded = shared[key] = backend.load_model(path, run_config, hooks, input_handler, model_config, data)
    return loaded


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
    return load_through_backend(
        backend, Path(model_path), run_config, manager.hooks, input_handler, dict(model_config or {}), data
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
