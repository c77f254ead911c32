"""A worker's one-time set-up: load the run-config and import the training framework without garbage collections.

Importing TensorFlow (or torch and Lightning) creates about a million Python objects. While they appear, Python's
cyclic garbage collector runs full collections each time the heap has grown by a quarter: five during ``import
keras``, about 0.75 CPU-seconds per worker, all on the way to the first epoch. Every later full collection (the
release of memory after a fold's training, matplotlib's figures in the evaluation) scanned them all again, about
0.2 s each.

A worker therefore loads the run-config (which may import the framework itself, for its ``LitModel``), the plugins
and the frameworks of the run's backend (its descriptor's ``requires``: ``keras`` and ``tensorflow``; ``lightning``,
``torch`` and ``torchmetrics``) with collections paused (:func:`optima_core.inputs.memory.collections_paused`), and
then moves every object that exists to Python's permanent generation (``gc.freeze``), once per process. Those
objects live as long as the worker anyway; later collections look only at what trials create. Reference counting
still frees frozen objects; only a reference cycle among objects created before the freeze would stay, for the life
of the worker, not per trial.
"""

from __future__ import annotations

import gc
import importlib
from typing import Any

_frozen = False


def import_backend_framework(manager: Any, model_type: str) -> None:
    """Import the frameworks the backend of ``model_type`` declares in its descriptor's ``requires`` (nothing for an
    unknown backend: its trial's build raises the error that lists the known ones)."""
    from optima_core.errors import PluginError

    try:
        descriptor = manager.descriptor("backend", model_type)
    except PluginError:
        return
    for module in descriptor.requires:
        importlib.import_module(module)


def freeze_once() -> None:
    """Move every object that exists now to the permanent generation, the first time this process calls it."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
