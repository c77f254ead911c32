"""Helpers for the input-pipeline tests: small generated files in the three formats, run-configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optima_core.config.loader import RunConfig
from optima_core.config.parameters import defaults

VARIABLES = ["pt", "eta", "mass", "njets"]


def make_frame(n_signal: int = 60, n_background: int = 90, seed: int = 1, negative: int = 0) -> pd.DataFrame:
    """Flat columns: the variables, Weight, EventNumber and a binary ``target`` (1 = signal)."""
    rng = np.random.default_rng(seed)
    n = n_signal + n_background
    frame = pd.DataFrame(
        {
            "pt": rng.gamma(3.0, 20.0, n) + 20.0,
            "eta": rng.normal(0.0, 1.2, n),
            "mass": rng.normal(91.0, 5.0, n),
            "njets": rng.poisson(2.0, n).astype(np.float64),
        }
    )
    frame["Weight"] = rng.lognormal(0.0, 0.3, n) * np.where(np.arange(n) < n_signal, 0.01, 0.5)
    if negative:
        frame.loc[frame.index[:negative], "Weight"] *= -1
    frame["EventNumber"] = rng.permutation(n).astype(np.int64) + 1000
    frame["target"] = (np.arange(n) < n_signal).astype(np.int8)
    return frame


def to_original_layout(frame: pd.DataFrame, one_hot: bool = False) -> pd.DataFrame:
    """The original OPTIMA pickle layout: column groups ``features`` and ``targets``."""
    features = frame.drop(columns=["target"])
    if one_hot:
        targets = pd.DataFrame({"sig": frame["target"], "bkg": 1 - frame["target"]})
    else:
        targets = frame[["target"]]
    return pd.concat({"features": features, "targets": targets}, axis=1)


def write(frame: pd.DataFrame, path: Path, **kwargs: Any) -> Path:
    """Write ``frame`` in the format of ``path``'s suffix (pickles in the original layout)."""
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix in (".pkl", ".pickle"):
        to_original_layout(frame, **kwargs).to_pickle(path)
    elif path.suffix == ".root":
        import uproot

        with uproot.recreate(path) as handle:
            tree = handle.mktree(kwargs.get("tree", "Events"), {c: frame[c].to_numpy().dtype for c in frame.columns})
            tree.extend({c: frame[c].to_numpy() for c in frame.columns})
    else:
        raise ValueError(path)
    return path


def run_config(**values: Any) -> RunConfig:
    """A resolved run-config with the built-in defaults and ``values``."""
    return RunConfig(
        {
            **defaults(),
            "perform_variable_opt": False,
            "perform_main_hyperopt": True,
            "perform_PBT_hyperopt": False,
            **values,
        }
    )
