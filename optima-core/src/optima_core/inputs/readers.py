"""Column access to input files; the format is chosen by the file suffix.

* ``.pkl`` / ``.pickle`` -- a pandas DataFrame. The original OPTIMA layout has two top-level column groups:
  ``features`` (the input variables, ``Weight`` or ``weight``, ``EventNumber``) and ``targets`` (one binary
  column or one-hot columns). A DataFrame with flat columns is read like a Parquet file.
* ``.parquet`` / ``.pq`` -- flat columns: the variables, the weight, the event number and the target column(s).
  Columns are read one at a time, so only the requested ones are ever in memory.
* ``.root`` -- a TTree (or RNTuple) read with uproot (``pip install 'optima-core[root]'``); every branch used
  holds one number per event, or is indexed (``Jet_pt[:, 0]``, see :mod:`optima_core.inputs.root_inputs`).
  ``inputs_tree_name`` selects the tree when the file has several.
* a mapping ``{class label: [ROOT file patterns]}`` -- the files of each class, an optional ``inputs_cut``
  (:class:`ClassRootColumns`, :mod:`optima_core.inputs.root_inputs`); the target is made from the classes.

Every reader offers the same small interface (:class:`Columns`): the column names, whether a column is numeric,
and reading one column as a 1-D NumPy array.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.inputs.errors import InputDataError, data_error
from optima_core.inputs.root_inputs import (
    DEFAULT_PADDING,
    ClassFiles,
    branch_kind,
    import_uproot,
    pad_entry,
    parse_indexed,
    trees_of,
)

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

    def __init__(self, path: Path | str) -> None:
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

    def has(self, name: str) -> bool:
        """Whether ``name`` can be read (a column, or for ROOT an index into a jagged branch)."""
        return name in self.names

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


class _JaggedColumns(Columns):
    """Columns of ROOT files, where ``Branch[:, k]`` names the ``k``-th entry of a jagged branch."""

    def has(self, name: str) -> bool:
        indexed = parse_indexed(name)
        return name in self.names or (indexed is not None and indexed[0] in self.names)


class RootColumns(_JaggedColumns):
    kind = "ROOT"

    def __init__(self, path: Path, tree_name: str | None, padding: float = DEFAULT_PADDING) -> None:
        super().__init__(path)
        uproot = import_uproot(path)
        self.padding = padding
        try:
            handle = uproot.open(path)
        except Exception as error:
            raise data_error(
                path, "file content", f"({type(error).__name__}: {error})", "a readable ROOT file"
            ) from error
        trees = trees_of(handle)
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
        indexed = parse_indexed(name)
        if indexed is not None and name not in self.names:
            return branch_kind(self._tree, indexed[0]) in ("jagged", "unknown")
        return branch_kind(self._tree, name) in ("flat", "unknown")  # RNTuple fields: checked when read

    def read(self, name: str) -> np.ndarray:
        indexed = parse_indexed(name) if name not in self.names else None
        if indexed is not None:
            return pad_entry(self._tree[indexed[0]].array(library="ak"), indexed[1], self.padding)
        values = np.asarray(self._tree[name].array(library="np"))
        if values.dtype == object or values.ndim != 1 or values.dtype.kind not in "biuf":
            raise data_error(
                self.path,
                f"branch {name!r} of tree {self.tree_name!r}",
                f"({values.dtype}, shape {values.shape})",
                "a flat numeric branch (one number per event)",
                f"for a list per event, index it: '{name}[:, 0]'" if values.dtype == object else "",
            )
        return values

    def describe(self) -> str:
        return f"ROOT tree {self.tree_name!r} with {self.n_rows} entries"


class ClassRootColumns(_JaggedColumns):
    """ROOT files per class (``inputs_file`` a mapping): the branches of all files, the target made from the classes.

    Each column is read class by class with ``uproot.concatenate`` (``inputs_cut`` applied), in label order. The
    target columns are ``'target'`` (two classes: 1 for the first label) or one column per label (one-hot).
    """

    kind = "ROOT"

    def __init__(
        self,
        mapping: Mapping[Any, Any],
        labels: Sequence[str],
        tree_name: str | None,
        cut: str | None = None,
        padding: float = DEFAULT_PADDING,
    ) -> None:
        labels = [str(label) for label in labels]
        super().__init__("The ROOT input files of classes " + ", ".join(repr(label) for label in labels))
        found = ClassFiles(mapping, labels, tree_name)
        if found.problems:
            raise InputDataError(str(self.path), found.problems)
        self.uproot = import_uproot(self.path)
        self.labels, self.files, self.cut, self.padding = labels, found.files, cut, padding
        kinds = [found.branches[file] for files in self.files.values() for file in files]
        self.kinds = {name: kind for name, kind in kinds[0].items() if all(name in k for k in kinds[1:])}
        self.names = list(self.kinds)
        self.target_group = ["target"] if len(labels) == 2 else list(labels)
        if cut is None:
            self.counts = [sum(found.entries[file] for file in self.files[label]) for label in labels]
        else:
            probe = next((n for n, k in self.kinds.items() if k == "flat"), self.names[0])
            self.counts = [len(self._class_values(label, probe)) for label in labels]
        self.n_rows = sum(self.counts)

    def _class_values(self, label: str, branch: str) -> Any:
        try:
            arrays = self.uproot.concatenate(self.files[label], expressions=[branch], cut=self.cut, library="ak")
        except Exception as error:  # a bad cut or branch is the user's to fix
            subject, found = ("inputs_cut", self.cut) if self.cut else (f"branch {branch!r}", branch)
            raise data_error(
                self.path,
                subject,
                found,
                "an uproot cut expression over branches of every file (e.g. '(nJet >= 1) & (MET > 20)')"
                if self.cut
                else "a branch of every file of the class",
                f"reading class '{label}' failed: {type(error).__name__}: {error}",
            ) from error
        return arrays[branch]

    def is_numeric(self, name: str) -> bool:
        indexed = parse_indexed(name)
        if indexed is not None and name not in self.names:
            return self.kinds.get(indexed[0]) in ("jagged", "unknown")
        return self.kinds.get(name) in ("flat", "unknown")

    def read(self, name: str) -> np.ndarray:
        indexed = parse_indexed(name) if name not in self.names else None
        branch = indexed[0] if indexed else name
        parts = []
        for label in self.labels:
            values = self._class_values(label, branch)
            if indexed is not None:
                parts.append(pad_entry(values, indexed[1], self.padding))
                continue
            if values.ndim != 1:
                raise data_error(
                    self.path,
                    f"branch {name!r}",
                    "(a list per event)",
                    "a flat numeric branch (one number per event)",
                    f"index it: '{name}[:, 0]' is the first entry of each event",
                )
            parts.append(np.asarray(values.to_numpy()))
        return np.concatenate(parts)

    def read_target(self, name: str) -> np.ndarray:
        classes = np.repeat(np.arange(len(self.labels)), self.counts)
        column = 0 if name == "target" and len(self.labels) == 2 else self.labels.index(name)
        return (classes == column).astype(np.float32)

    def describe(self) -> str:
        counts = {label: len(self.files[label]) for label in self.labels}
        files = ", ".join(f"{label}: {n} file{'s' if n != 1 else ''}" for label, n in counts.items())
        cut = f" passing {self.cut!r}" if self.cut else ""
        return f"ROOT files per class ({files}) with {self.n_rows} events{cut}"


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


def open_columns(
    path: str | Path | Mapping[Any, Any],
    tree_name: str | None = None,
    *,
    labels: Sequence[str] = ("Signal", "Background"),
    cut: str | None = None,
    padding: float = DEFAULT_PADDING,
) -> Columns:
    """Open ``path`` with the reader its suffix selects; a missing file or unknown suffix is an InputDataError.

    A mapping ``{class label: [ROOT file patterns]}`` is read per class (``labels``: the class order, ``cut``:
    uproot's cut); ``padding`` fills missing entries of indexed jagged branches.
    """
    if isinstance(path, Mapping):
        return ClassRootColumns(path, labels, tree_name, cut, padding)
    if cut is not None:
        raise data_error(path, "inputs_cut", cut, "no cut unless inputs_file maps class labels to ROOT files")
    path = Path(path)
    if not path.is_file():
        raise data_error(path, "inputs_file", str(path), "an existing file", f"looked in {path.resolve().parent}")
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        return FrameColumns(path, _read_pickle(path))
    if suffix in PARQUET_SUFFIXES:
        return ParquetColumns(path)
    if suffix in ROOT_SUFFIXES:
        return RootColumns(path, tree_name, padding)
    supported = ", ".join(PICKLE_SUFFIXES + PARQUET_SUFFIXES + ROOT_SUFFIXES)
    raise data_error(path, "file suffix", path.suffix or "(none)", f"one of {supported}")
