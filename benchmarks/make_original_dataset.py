"""Write the benchmark's signal/background sample in the original OPTIMA's pickle layout, and as Parquet.

The original's built-in ``get_inputs`` reads a pickled pandas DataFrame with two top-level column groups:
``features`` (the input variables, ``Weight`` and ``EventNumber``) and ``targets`` (here one binary column,
``target``: 1 for signal). The Parquet file holds the same columns flat (``target`` last), as OPTIMA reads them.
The ``.npz`` file holds plain arrays (for ``common_sample_auc.py``, in either tool's venv).

14 variables: 10 that separate signal from background (shifted means, different widths, a ratio, a count) and 4 of
pure noise (the same distribution for both classes). Columns are float32 (the original's Keras evaluation crashed on
float64 weights); about 1 % of the background weights are negative, as in a NLO simulation.

Run it with the Python whose numpy reads the pickle: a pickle written by numpy 2 does not load under numpy 1 (the
original's venv), while numpy 2 reads numpy 1's. Works with numpy 1 and 2, pandas 1 to 3.

    python benchmarks/make_original_dataset.py --events 20000 --pickle data.pkl [--parquet data.parquet] [--npz x.npz]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

INFORMATIVE = [
    "pt_lep1",
    "pt_lep2",
    "eta_lep1",
    "eta_lep2",
    "m_ll",
    "met",
    "dphi_ll",
    "n_jets",
    "ht",
    "pt_ratio",
]
NOISE = ["noise_1", "noise_2", "noise_3", "noise_4"]
VARIABLES = INFORMATIVE + NOISE


def make_frame(events: int, seed: int) -> pd.DataFrame:
    """``events`` events (half signal), flat columns: the variables, ``Weight``, ``EventNumber``, ``target``."""
    rng = np.random.default_rng(seed)
    # float32 labels: the original's weighted Keras loss multiplies them with float32 tensors (int8 fails there)
    target = (rng.random(events) < 0.5).astype(np.float32)
    s = target.astype(np.float64)  # 1 for signal
    pt1 = np.exp(rng.normal(3.6 + 0.25 * s, 0.45))
    pt2 = pt1 * rng.uniform(0.2, 1.0, events) ** (1.0 - 0.3 * s)
    columns = {
        "pt_lep1": pt1,
        "pt_lep2": pt2,
        "eta_lep1": rng.normal(0.0, 1.4 - 0.5 * s),
        "eta_lep2": rng.normal(0.0, 1.5 - 0.5 * s),
        "m_ll": rng.normal(91.0 + 25.0 * s, 8.0 + 6.0 * s),
        "met": rng.exponential(30.0 + 25.0 * s),
        "dphi_ll": np.abs(rng.normal(0.0, 1.8 - 0.8 * s)).clip(0.0, np.pi),
        "n_jets": rng.poisson(1.5 + 1.0 * s).astype(np.float64),
        "ht": pt1 + pt2 + rng.exponential(60.0 + 40.0 * s),
        "pt_ratio": pt2 / pt1,
    }
    for name in NOISE:
        columns[name] = rng.normal(0.0, 1.0, events)
    frame = pd.DataFrame({name: np.asarray(values, dtype=np.float32) for name, values in columns.items()})
    weight = rng.lognormal(0.0, 0.3, events) * np.where(target == 1, 0.02, 0.6)
    negative = (target == 0) & (rng.random(events) < 0.01)
    frame["Weight"] = np.where(negative, -weight, weight).astype(np.float32)
    frame["EventNumber"] = (rng.permutation(events) + 1000).astype(np.int64)
    frame["target"] = target
    return frame


def grouped(frame: pd.DataFrame) -> pd.DataFrame:
    """The original's layout: column groups ``features`` and ``targets``."""
    features = frame.drop(columns=["target"])
    return pd.concat({"features": features, "targets": frame[["target"]]}, axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--pickle", type=Path, help="where to write the original-layout pickle")
    parser.add_argument("--parquet", type=Path, help="where to write the same events as flat Parquet columns")
    parser.add_argument(
        "--npz", type=Path, help="where to write the events as arrays Input (variables in order), target, Weight"
    )
    args = parser.parse_args()
    if args.pickle is None and args.parquet is None and args.npz is None:
        parser.error("give --pickle, --parquet and/or --npz")
    frame = make_frame(args.events, args.seed)
    if args.pickle is not None:
        args.pickle.parent.mkdir(parents=True, exist_ok=True)
        grouped(frame).to_pickle(args.pickle)
        print(f"wrote {args.pickle} ({args.events} events, {len(VARIABLES)} variables, original layout)")
    if args.parquet is not None:
        args.parquet.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(args.parquet, index=False)
        print(f"wrote {args.parquet} ({args.events} events, flat columns)")
    if args.npz is not None:
        args.npz.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            args.npz,
            Input=frame[VARIABLES].to_numpy(np.float32),
            target=frame["target"].to_numpy(np.float32),
            Weight=frame["Weight"].to_numpy(np.float64),
        )
        print(f"wrote {args.npz} ({args.events} events, arrays)")


if __name__ == "__main__":
    main()
