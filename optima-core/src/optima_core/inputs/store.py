"""Conversion of what a user's input hooks return (EventData, Ray Dataset, column dicts) into EventData.

Datasets reach trials through Ray's object store, put there once per Tuner
(:mod:`optima_core.engine.trial_parameters`).

A user's ``get_inputs`` may return a Ray Dataset with ``Input`` and ``Target`` columns (the original OPTIMA's
format); :func:`as_event_data` materialises it into an EventData once: the result is remembered for as long as
the Ray Dataset lives, so the pipeline and the built-in ``get_training_data`` share one materialised copy.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from optima_core.inputs.dataset import COLUMN_DTYPES, EventData, Variable
from optima_core.inputs.errors import data_error

_MATERIALISED: weakref.WeakKeyDictionary[Any, EventData] = weakref.WeakKeyDictionary()


def is_ray_dataset(obj: Any) -> bool:
    """True for a ``ray.data.Dataset`` (checked without importing Ray)."""
    module = type(obj).__module__ or ""
    return module.startswith("ray.data") and hasattr(obj, "iter_batches")


def from_ray_dataset(dataset: Any, variables: Sequence[Variable] | None = None) -> EventData:
    """Materialise a Ray Dataset (columns ``Input``, ``Target``, optionally the others) into an EventData."""
    cached = _MATERIALISED.get(dataset)
    if cached is not None:
        return cached
    parts: dict[str, list[np.ndarray]] = {}
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        for name, values in batch.items():
            if name in COLUMN_DTYPES:
                parts.setdefault(name, []).append(np.asarray(values))
    missing = [name for name in ("Input", "Target") if name not in parts]
    if missing:
        raise data_error(
            "The Ray Dataset returned by get_inputs",
            "columns",
            f"(missing {missing})",
            "the columns 'Input' and 'Target' (optionally Weight, ScaledWeight, EventNumber)",
        )
    columns = {}
    for name, chunks in parts.items():
        array = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
        if array.dtype == object:  # ragged per-row arrays of equal length
            array = np.stack(list(array))
        columns[name] = array
    data = EventData(columns, variables, {"source": "The Ray Dataset returned by get_inputs"})
    _MATERIALISED[dataset] = data
    return data


def as_event_data(obj: Any, variables: Sequence[Variable] | None = None, what: str = "get_inputs") -> EventData:
    """An EventData from an EventData, a Ray Dataset or a mapping of columns; anything else is an error."""
    if isinstance(obj, EventData):
        return obj
    if is_ray_dataset(obj):
        return from_ray_dataset(obj, variables)
    if isinstance(obj, Mapping) and "Input" in obj and "Target" in obj:
        return EventData(obj, variables)
    raise data_error(
        f"The dataset returned by {what}",
        "type",
        f"({type(obj).__module__}.{type(obj).__name__})",
        "an EventData, a Ray Dataset or a dict with 'Input' and 'Target' arrays",
    )


def convert_split(split: Any, variables: Sequence[Variable] | None = None, what: str = "get_training_data") -> Any:
    """The same (nested tuple/list) structure with every dataset converted to EventData."""
    if isinstance(split, (tuple, list)):
        converted = [convert_split(part, variables, what) for part in split]
        return tuple(converted) if isinstance(split, tuple) else converted
    return as_event_data(split, variables, what)
