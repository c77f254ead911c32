"""Column access to input files; the format is chosen by the file suffix.

* ``.pkl`` / ``.pickle`` -- a pandas DataFrame. The original OPTIMA layout has two top-level column groups:
  ``features`` (the input variables, ``Weight`` or ``weight``, ``EventNumber``) and ``targets`` (one binary
  column or one-hot columns). A DataFrame with flat columns is read like a Parquet file.
* ``.parquet`` / ``.pq`` -- flat columns: the variables, the weight, the event number and the target column(s).
  Columns are read one at a time, so only the requested ones are ever in memory.
* ``.root`` -- a TTree (or RNTuple) read with uproot (``pip install 'optima-core[root]'``); every branch used
  must hold one number per event. ``inputs_tree_name`` selects the tree when the file has several.

Every reader offers the same small interface (:class:`Columns`): the column names, whether a column is numeric,
and reading one column as a 1-D NumPy array.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.inputs.errors import data_error

PICKLE_SUFFIXES = (".pkl", ".pickle")
PARQUET_SUFFIXES = (".parquet", ".pq")
ROOT_SUFFIXES = (".root",)


def close_matches(name: str, candidates: list[str], n: int = 3) -> list[str]:
    """Near matches of ``name`` (case-insensitive first, then by similarity)."""
    same_case = [c for c in candidates if c.lower() == name.lower()]
    similar = difflib.get_close_matches(name, candidates, n=n, cutoff=0.6)
    return list(dict.fromkeys(same_case + similar))[:n]


class Columns:
    """One input file seen as named columns. ``target_group``: the pickle's ``targets`` columns, if any."""

    kind = "file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.names: list[str] = []
        self.target_group: list[str] | None = None
        self.n_rows = 0

    def is_numeric(self, name: str) -> bool:
        raise NotImplementedError

    def read(self, name: str) -> np.ndarray:
        raise NotImplementedError

    def read_target(self, name: str) -> np.ndarray:
        return self.read(name)

    def describe(self) -> str:
        return f"{self.kind} file with {self.n_rows} rows"


class FrameColumns(Columns):
    """A pandas DataFrame (from a pickle): the original grouped layout, or flat columns."""

    kind = "Pickle"

    def __init__(self, path: Path, frame: Any) -> None:
        import pandas as pd

        super().__init__(path)
        if not isinstance(frame, pd.DataFrame):
            raise data_error(
                path, "pickled object", f"({type(frame).__name__})", "a pandas DataFrame with the input data"
            )
        self.n_rows = len(frame)
        if isinstance(frame.columns, pd.MultiIndex):
            groups = list(dict.fromkeys(str(g) for g in frame.columns.get_level_values(0)))
            missing = [g for g in ("features", "targets") if g not in groups]
            if missing:
                raise data_error(
                    path,
                    "top-level column groups",
                    groups,
                    "the groups 'features' (input variables, Weight, EventNumber) and 'targets' (the labels)",
                    f"missing: {missing}",
                )
            self._features = frame["features"]
            self._targets = frame["targets"]
            self.target_group = [str(c) for c in self._targets.columns]
        else:
            self._features = self._targets = frame
        self.names = [str(c) for c in self._features.columns]

    def is_numeric(self, name: str) -> bool:
        import pandas as pd

        dtype = self._features[name].dtype
        return bool(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))

    def read(self, name: str) -> np.ndarray:
        return self._features[name].to_numpy()

    def read_target(self, name: str) -> np.ndarray:
        return self._targets[name].to_numpy()


class ParquetColumns(Columns):
    kind = "Parquet"

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        super().__init__(path)
        try:
            self._file = pq.ParquetFile(path)
        except Exception as error:
            raise data_error(
                path, "file content", f"({type(error).__name__}: {error})", "a readable Parquet file"
            ) from error
        self._schema = self._file.schema_arrow
        self.names = list(self._schema.names)
        self.n_rows = self._file.metadata.num_rows

    def is_numeric(self, name: str) -> bool:
        import pyarrow as pa

        kind = self._schema.field(name).type
        return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind))

    def read(self, name: str) -> np.ndarray:
        return np.asarray(self._file.read(columns=[name], use_threads=False).column(0).to_numpy())


class RootColumns(Columns):
    kind = "ROOT"

    def __init__(self, path: Path, tree_name: str | None) -> None:
        super().__init__(path)
        try:
            import uproot
        except ImportError as error:
            raise data_error(
                path,
                "ROOT reader",
                "(uproot is not installed)",
                "uproot to read .root files",
                "install it: pip install 'optima-core[root]'",
            ) from error
        try:
            handle = uproot.open(path)
        except Exception as error:
            raise data_error(
                path, "file content", f"({type(error).__name__}: {error})", "a readable ROOT file"
            ) from error
        trees = [
            name
            for name, cls in handle.classnames(cycle=False, recursive=True).items()
            if cls in ("TTree", "ROOT::RNTuple")
        ]
        if tree_name is None:
            if len(trees) != 1:
                raise data_error(
                    path,
                    "inputs_tree_name",
                    None,
                    "the name of the tree to read" if trees else "a file containing a TTree",
                    f"the file has the trees {trees}" if trees else "the file has no TTree",
                )
            tree_name = trees[0]
        elif tree_name not in trees:
            close = close_matches(tree_name, trees)
            raise data_error(
                path,
                "inputs_tree_name",
                tree_name,
                f"one of the trees in the file: {trees}",
                f"did you mean {close[0]!r}?" if close else "",
            )
        self.tree_name = tree_name
        self._tree = handle[tree_name]
        self.names = [str(k) for k in self._tree.keys()]  # noqa: SIM118 - an uproot tree, not a dict
        self.n_rows = int(self._tree.num_entries)

    def is_numeric(self, name: str) -> bool:
        interpretation = getattr(self._tree[name], "interpretation", None)
        if interpretation is None:  # RNTuple fields: checked when read
            return True
        dtype = getattr(interpretation, "to_dtype", None)
        return dtype is not None and dtype.shape == () and dtype.kind in "biuf"

    def read(self, name: str) -> np.ndarray:
        values = np.asarray(self._tree[name].array(library="np"))
        if values.dtype == object or values.ndim != 1 or values.dtype.kind not in "biuf":
            raise data_error(
                self.path,
                f"branch {name!r} of tree {self.tree_name!r}",
                f"({values.dtype}, shape {values.shape})",
                "a flat numeric branch (one number per event)",
            )
        return values

    def describe(self) -> str:
        return f"ROOT tree {self.tree_name!r} with {self.n_rows} entries"


def _read_pickle(path: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_pickle(path)
    except Exception as error:
        versions = f"numpy {np.__version__}, pandas {pd.__version__}"
        if isinstance(error, (ModuleNotFoundError, ImportError, AttributeError)):
            expected = f"a pickle this environment can read ({versions})"
            cause = "it was written with other numpy/pandas versions (numpy 2 pickles need numpy 2 and vice versa)"
        else:
            expected = f"a readable pandas pickle ({versions})"
            cause = "the file is damaged or not a pandas pickle"
        raise data_error(
            path,
            "unpickling",
            f"({type(error).__name__}: {error})",
            expected,
            f"{cause}; convert it to Parquet where it can be read, e.g. "
            f"pd.read_pickle('{path.name}').droplevel(0, axis=1).to_parquet('{path.stem}.parquet'), "
            "then set inputs_file to the .parquet file (and target_columns to the former 'targets' columns)",
        ) from error


def open_columns(path: str | Path, tree_name: str | None = None) -> Columns:
    """Open ``path`` with the reader its suffix selects; a missing file or unknown suffix is an InputDataError."""
    path = Path(path)
    if not path.is_file():
        raise data_error(path, "inputs_file", str(path), "an existing file", f"looked in {path.resolve().parent}")
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        return FrameColumns(path, _read_pickle(path))
    if suffix in PARQUET_SUFFIXES:
        return ParquetColumns(path)
    if suffix in ROOT_SUFFIXES:
        return RootColumns(path, tree_name)
    supported = ", ".join(PICKLE_SUFFIXES + PARQUET_SUFFIXES + ROOT_SUFFIXES)
    raise data_error(path, "file suffix", path.suffix or "(none)", f"one of {supported}")
