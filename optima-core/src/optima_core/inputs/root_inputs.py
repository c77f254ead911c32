"""ROOT inputs per class: ``inputs_file`` maps each class label to ROOT files, with a cut and jagged branches.

.. code-block:: python

    inputs_file = {
        "Signal": ["samples/signal_*.root:Events"],
        "Background": ["samples/ttbar.root:Events", "samples/wjets_*.root:Events"],
    }
    inputs_cut = "(nJet >= 1) & (MET > 20)"                  # uproot's cut=, applied to every class
    input_vars = ["MET", "Jet_pt[:, 0]", "Jet_pt[:, 1]"]     # first and second jet; missing ones padded
    inputs_padding_value = 0.0                               # the default

* The keys are exactly the labels of ``evaluation_class_labels``, which give the class order: with two classes the
  first is the signal (``Target`` 1), with more the target is one-hot in label order. The files of a class are read
  together with ``uproot.concatenate``; their events are that class's events.
* A pattern is a glob with the tree after ``:`` (``dir/*.root:Events``); without it ``inputs_tree_name`` is used,
  else the file's only tree. Every pattern must match a file and every file must hold the tree.
* ``Branch[:, k]`` (or ``Branch[k]``) reads the ``k``-th entry of a jagged branch (a list per event, e.g. the jets)
  through awkward; events with ``k`` entries or fewer get ``inputs_padding_value``. It works for a single
  ``.root`` ``inputs_file`` as well. Weights and event numbers are branches, as for flat files.

The mapping is checked by ``optima check`` (labels, patterns, trees; :func:`check_class_files`) before anything
is loaded; the branches, the cut and the data are checked when the inputs are loaded, before Ray starts.
"""

from __future__ import annotations

import difflib
import glob
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optima_core.config.problems import Problem
from optima_core.inputs.errors import data_error

#: ``Jet_pt[:, 0]`` or ``Jet_pt[0]``: entry 0 of each event's list in the jagged branch ``Jet_pt``.
INDEXED = re.compile(r"^\s*(?P<branch>[A-Za-z_][\w.]*)\s*\[\s*(?::\s*,\s*)?(?P<index>\d+)\s*\]\s*$")
#: The value of ``inputs_padding_value`` when the run-config does not set it.
DEFAULT_PADDING = 0.0
INSTALL_HINT = "install it: pip install 'optima-core[root]'"


def parse_indexed(name: str) -> tuple[str, int] | None:
    """``("Jet_pt", 0)`` for ``"Jet_pt[:, 0]"`` / ``"Jet_pt[0]"``; ``None`` for a plain branch name."""
    match = INDEXED.match(name)
    return (match.group("branch"), int(match.group("index"))) if match else None


def import_uproot(where: Any) -> Any:
    try:
        import uproot
    except ImportError as error:
        raise data_error(
            where, "ROOT reader", "(uproot is not installed)", "uproot to read .root files", INSTALL_HINT
        ) from error
    return uproot


def branch_kind(tree: Any, name: str) -> str:
    """``'flat'`` (one number per event), ``'jagged'`` (a list of numbers), ``'other'``, or ``'unknown'`` (RNTuple)."""
    interpretation = getattr(tree[name], "interpretation", None)
    if interpretation is None:
        return "unknown"
    dtype = getattr(interpretation, "to_dtype", None)
    if dtype is not None and dtype.shape == () and dtype.kind in "biuf":
        return "flat"
    content = getattr(getattr(interpretation, "content", None), "to_dtype", None)
    if content is not None and content.shape == () and content.kind in "biuf":
        return "jagged"
    return "other"


def trees_of(handle: Any) -> list[str]:
    return [n for n, c in handle.classnames(cycle=False, recursive=True).items() if c in ("TTree", "ROOT::RNTuple")]


def pad_entry(values: Any, index: int, padding: float) -> np.ndarray:
    """Entry ``index`` of each event's list in the awkward array ``values``, ``padding`` where there is none."""
    import awkward as ak

    return np.asarray(ak.to_numpy(ak.fill_none(ak.pad_none(values, index + 1, axis=1)[:, index], padding)))


def split_pattern(pattern: str) -> tuple[str, str | None]:
    """``("dir/*.root", "Events")`` for ``"dir/*.root:Events"``; the tree is ``None`` without ``:``."""
    at = pattern.lower().rfind(".root:")
    if at < 0:
        return pattern, None
    return pattern[: at + 5], pattern[at + 6 :] or None


class ClassFiles:
    """The files of each class with their tree and branches, found from the ``inputs_file`` mapping."""

    def __init__(self, mapping: Mapping[Any, Any], labels: Sequence[str], tree_name: str | None) -> None:
        self.files: dict[str, dict[str, str]] = {}  # label -> {file: tree}, classes in label order
        self.branches: dict[str, dict[str, str]] = {}  # file -> {branch: kind}
        self.entries: dict[str, int] = {}  # file -> entries of its tree
        self.problems: list[Problem] = []
        keys = [str(k) for k in mapping]
        missing = [label for label in labels if label not in keys]
        extra = [k for k in keys if k not in labels]
        if missing or extra:
            hints = [f"no files for {missing}" if missing else "", f"not a class label: {extra}" if extra else ""]
            close = [m for k in extra for m in difflib.get_close_matches(k, list(labels), n=1)]
            hints.append(f"did you mean {close[0]!r}?" if close else "")
            self.problems.append(
                Problem(
                    "inputs_file",
                    f"(classes {keys})",
                    f"one entry per label of evaluation_class_labels {list(labels)}",
                    "; ".join(h for h in hints if h),
                )
            )
            return
        uproot = None
        for label in labels:
            patterns = mapping[label]
            patterns = [patterns] if isinstance(patterns, (str, Path)) else patterns
            if (
                not isinstance(patterns, (list, tuple))
                or not patterns
                or not all(isinstance(p, (str, Path)) for p in patterns)
            ):
                self.problems.append(
                    Problem(f"inputs_file[{label!r}]", patterns, "a list of file patterns like 'dir/*.root:tree'")
                )
                continue
            self.files[label] = {}
            for pattern in map(str, patterns):
                path_pattern, tree = split_pattern(pattern)
                matches = sorted(glob.glob(os.path.expanduser(path_pattern)))
                if not matches:
                    where = Path(os.path.expanduser(path_pattern)).parent.resolve()
                    self.problems.append(
                        Problem(
                            f"inputs_file[{label!r}]", pattern, "a pattern matching ROOT files", f"looked in {where}"
                        )
                    )
                    continue
                uproot = uproot or import_uproot(f"The ROOT input files of class '{label}'")
                for file in matches:
                    self._add_file(uproot, label, pattern, file, tree or tree_name)

    def _add_file(self, uproot: Any, label: str, pattern: str, file: str, tree: str | None) -> None:
        subject = f"inputs_file[{label!r}]: {file}"
        try:
            handle = uproot.open(file)
        except Exception as error:  # noqa: BLE001 - any reason the file cannot be read is the user's to fix
            self.problems.append(Problem(subject, f"({type(error).__name__}: {error})", "a readable ROOT file"))
            return
        trees = trees_of(handle)
        if tree is None and len(trees) == 1:
            tree = trees[0]
        if tree is None or tree not in trees:
            close = difflib.get_close_matches(tree or "", trees, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the file has the trees {trees}"
            expected = "a tree of the file" if tree else "the tree to read: 'file.root:tree' or inputs_tree_name"
            self.problems.append(Problem(subject, tree, expected, hint))
            return
        self.files[label][file] = tree
        tree_object = handle[tree]
        self.branches[file] = {str(k): branch_kind(tree_object, str(k)) for k in tree_object.keys()}  # noqa: SIM118
        self.entries[file] = int(tree_object.num_entries)


def check_class_files(mapping: Mapping[Any, Any], labels: Sequence[str], tree_name: str | None) -> list[Problem]:
    """Every problem of an ``inputs_file`` mapping: labels, patterns matching files, trees (cheap: headers only)."""
    return ClassFiles(mapping, labels, tree_name).problems


def _describe(labels: Sequence[str]) -> str:
    return "The ROOT input files of classes " + ", ".join(repr(label) for label in labels)
