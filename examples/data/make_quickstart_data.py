"""Generate the small signal/background dataset bundled for the quickstart (examples/data/quickstart.parquet).

Deterministic (fixed seed): rerunning it reproduces the committed file. Eight input variables shaped like a
dilepton analysis; some separate the classes linearly, one (``dphi_ll``) mostly through its width, and
``n_jets`` only weakly. Event weights are positive and vary like Monte-Carlo weights; background has more events.

Columns: the eight inputs, ``Weight``, ``EventNumber`` and ``target`` (1 = signal, 0 = background).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

VARIABLES = ["pt_lep1", "pt_lep2", "eta_lep1", "eta_lep2", "m_ll", "met", "dphi_ll", "n_jets"]


def make(n_signal: int = 8000, n_background: int = 12000, seed: int = 20261129) -> pd.DataFrame:
    rng = np.random.default_rng(seed)

    def sample(n: int, signal: bool) -> dict[str, np.ndarray]:
        pt_scale = 55.0 if signal else 40.0
        pt1 = rng.gamma(3.0, pt_scale / 3.0, n) + 25.0
        pt2 = np.minimum(pt1, rng.gamma(2.5, pt_scale / 3.5, n) + 20.0)
        eta_width = 1.0 if signal else 1.4
        m_ll = rng.normal(91.0, 4.0, n) if signal else rng.exponential(60.0, n) + 20.0
        met = rng.gamma(2.0, 30.0 if signal else 18.0, n)
        dphi = np.clip(rng.normal(0.0, 0.8 if signal else 1.6, n), -np.pi, np.pi)
        n_jets = rng.poisson(2.2 if signal else 1.8, n).astype(np.float32)
        return {
            "pt_lep1": pt1,
            "pt_lep2": pt2,
            "eta_lep1": np.clip(rng.normal(0.0, eta_width, n), -2.5, 2.5),
            "eta_lep2": np.clip(rng.normal(0.0, eta_width, n), -2.5, 2.5),
            "m_ll": m_ll,
            "met": met,
            "dphi_ll": dphi,
            "n_jets": n_jets,
        }

    frames = []
    for n, is_signal in ((n_signal, True), (n_background, False)):
        columns = sample(n, is_signal)
        frame = pd.DataFrame({k: v.astype(np.float32) for k, v in columns.items()})
        frame["Weight"] = rng.lognormal(0.0, 0.3, n).astype(np.float32) * (0.02 if is_signal else 0.5)
        frame["target"] = np.int8(1 if is_signal else 0)
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    data["EventNumber"] = rng.permutation(len(data)).astype(np.int64) + 1_000_000
    return data[[*VARIABLES, "Weight", "EventNumber", "target"]]


if __name__ == "__main__":
    out = Path(__file__).with_name("quickstart.parquet")
    make().to_parquet(out, index=False)
    print(f"wrote {out}")
