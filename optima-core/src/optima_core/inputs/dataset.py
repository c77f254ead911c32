"""EventData: the built-in in-memory dataset, a set of named NumPy columns with one row per event.

Columns (``Input`` and ``Target`` are required, the others optional):

* ``Input`` -- float32 ``[N, V]``: the input variables, column order = :attr:`EventData.variables`.
* ``Target`` -- float32 ``[N, 1]`` (binary: 1 = the first class, e.g. signal) or ``[N, K]`` (one-hot).
* ``Weight`` -- float32 ``[N]``: normalised training weights (see :mod:`optima_core.inputs.weights`).
* ``ScaledWeight`` -- float32 ``[N]``: the original event weights (split among copies), for plots and evaluation.
* ``EventNumber`` -- int64 ``[N]``: event numbers (the row number in the file when the file has none).

Arrays are never copied on construction when they already have the right dtype, so an EventData rebuilt from
Ray's object store (:mod:`optima_core.engine.trial_parameters`) keeps its read-only, shared-memory arrays.

Class order everywhere (``max_num_events`` lists, ``evaluation_class_labels``, plots) is the order of the target
vector: for one-hot targets the column order; for a binary target class 0 is ``Target == 1`` (signal) and class 1
is ``Target == 0`` (background), matching the default labels ``["Signal", "Background"]``.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, Sequence
from typing import Any

import numpy as np

from optima_core.inputs.errors import data_error

REQUIRED_COLUMNS = ("Input", "Target")
OPTIONAL_COLUMNS = ("Weight", "ScaledWeight", "EventNumber")
COLUMN_DTYPES: dict[str, Any] = {
    "Input": np.float32,
    "Target": np.float32,
    "Weight": np.float32,
    "ScaledWeight": np.float32,
    "EventNumber": np.int64,
}

Variable = str | tuple[int, ...]


def class_index(target: np.ndarray) -> np.ndarray:
    """The class of every event in label order: binary ``1 -> 0``, ``0 -> 1``; one-hot: the hot column."""
    if target.ndim == 1 or target.shape[1] == 1:
        return (target.reshape(-1) < 0.5).astype(np.int64)
    return np.argmax(target, axis=1).astype(np.int64)


class EventData:
    """Named NumPy columns of equal length plus the input-variable names.

    ``data["Input"]``, ``"Weight" in data``, ``data.keys()``, ``len(data)`` (events), ``data.take(indices)``,
    ``data.slice(start, stop)``, ``data.columns``, ``data.variables``, ``data.n_classes``. ``meta`` holds provenance (``source``: the file) and flags
    (``checked``: the bad-data checks already ran on this data).
    """

    def __init__(
        self,
        columns: Mapping[str, Any],
        variables: Sequence[Variable] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise data_error((meta or {}).get("source"), "columns", sorted(columns), f"also the column(s) {missing}")
        arrays: dict[str, np.ndarray] = {}
        for name, values in columns.items():
            array = np.asarray(values)
            dtype = COLUMN_DTYPES.get(name)
            if dtype is not None and array.dtype != dtype:
                array = array.astype(dtype)
            arrays[name] = array
        if arrays["Target"].ndim == 1:
            arrays["Target"] = arrays["Target"].reshape(-1, 1)
        if arrays["Input"].ndim == 1:
            arrays["Input"] = arrays["Input"].reshape(-1, 1)
        lengths = {name: len(array) for name, array in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise data_error(
                (meta or {}).get("source"), "column lengths", lengths, "the same number of events in every column"
            )
        self._columns = arrays
        n_vars = arrays["Input"].shape[1]
        if variables is None:
            variables = [f"input_{i}" for i in range(n_vars)]
        self.variables: list[Variable] = list(variables)
        if arrays["Input"].ndim == 2 and len(self.variables) != n_vars:
            raise data_error(
                (meta or {}).get("source"), "variable names", self.variables, f"one per input column ({n_vars})"
            )
        self.meta: dict[str, Any] = dict(meta or {})

    # -- mapping-like access ----------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns["Input"])

    def get(self, name: str, default: Any = None) -> Any:
        return self._columns.get(name, default)

    # keys/items like a dict of columns (but ``len()`` counts events, so this is not a ``Mapping``)
    def keys(self) -> KeysView[str]:
        return self._columns.keys()

    def items(self) -> ItemsView[str, np.ndarray]:
        return self._columns.items()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._columns)

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns as a plain dict (the arrays themselves, not copies)."""
        return dict(self._columns)

    # -- derived properties ------------------------------------------------------------------------------------

    @property
    def n_classes(self) -> int:
        """2 for a binary target, K for K one-hot columns."""
        width = self._columns["Target"].shape[1]
        return 2 if width == 1 else width

    @property
    def nbytes(self) -> int:
        return sum(array.nbytes for array in self._columns.values())

    def class_index(self) -> np.ndarray:
        """The class (in label order) of every event."""
        return class_index(self._columns["Target"])

    def variable_column(self, variable: Variable) -> np.ndarray:
        """The values of one input variable: a name from :attr:`variables` or an index tuple into ``Input``."""
        if isinstance(variable, str):
            return self._columns["Input"][:, self.variables.index(variable)]
        if variable in self.variables and self._columns["Input"].ndim == 2:
            return self._columns["Input"][:, self.variables.index(variable)]
        index: tuple[Any, ...] = (slice(None), *variable)
        return self._columns["Input"][index]

    def weights_for_plots(self) -> np.ndarray:
        """``ScaledWeight`` if present, else ``Weight``, else ones."""
        for name in ("ScaledWeight", "Weight"):
            if name in self._columns:
                return self._columns[name]
        return np.ones(len(self), dtype=np.float32)

    # -- new datasets -----------------------------------------------------------------------------------------

    def take(self, indices: np.ndarray | Sequence[int]) -> EventData:
        """A new EventData with the rows ``indices`` (copies; a boolean mask works too)."""
        index = np.asarray(indices)
        return EventData(
            {name: array[index] for name, array in self._columns.items()},
            self.variables,
            {k: v for k, v in self.meta.items() if k != "checked"},
        )

    def slice(self, start: int, stop: int) -> EventData:
        """Rows ``start:stop`` as views of this dataset's arrays (no copy)."""
        return EventData(
            {name: array[start:stop] for name, array in self._columns.items()},
            self.variables,
            {k: v for k, v in self.meta.items() if k != "checked"},
        )

    def with_columns(self, **columns: Any) -> EventData:
        """A new EventData sharing this one's arrays, with ``columns`` added or replaced."""
        return EventData({**self._columns, **columns}, self.variables, self.meta)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{name}{list(array.shape[1:]) or ''}" for name, array in self._columns.items())
        return f"EventData({len(self)} events, {self.n_classes} classes, columns: {shapes})"
