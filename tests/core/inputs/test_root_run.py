"""One tiny end-to-end run on ROOT files per class (``inputs_file`` a mapping, a cut, a jagged branch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

uproot = pytest.importorskip("uproot")
ak = pytest.importorskip("awkward")


def _write(path: Path, n: int, shift: float, first_event: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_jets = rng.integers(0, 4, n)
    jets = ak.unflatten(rng.exponential(30.0 + 30.0 * shift, int(n_jets.sum())).astype(np.float32), n_jets)
    branches = {
        "MET": rng.normal(40.0 + 25.0 * shift, 10.0, n),
        "HT": rng.normal(200.0 + 80.0 * shift, 40.0, n),
        "Jet_pt": jets,
        "Weight": rng.uniform(0.5, 1.5, n),
        "EventNumber": np.arange(first_event, first_event + n, dtype=np.int64),
    }
    with uproot.recreate(path) as handle:
        handle.mktree("Events", {k: ("var * float32" if k == "Jet_pt" else v.dtype) for k, v in branches.items()})
        handle["Events"].extend(branches)


@pytest.mark.slow
@pytest.mark.overlap
@pytest.mark.lightning
def test_a_run_reads_root_files_per_class(tmp_path: Path) -> None:
    pytest.importorskip("optima_lightning")
    import ray

    from optima_core.cli import cli

    _write(tmp_path / "signal.root", 900, 1.0, 0, 1)
    _write(tmp_path / "background.root", 900, 0.0, 10_000, 2)
    config = tmp_path / "run_config.py"
    settings = {
        "perform_variable_opt": False,
        "perform_main_hyperopt": False,
        "perform_PBT_hyperopt": False,
        "crossvalidation_for_fixed_hps": False,
        "model_type": "Lightning",
        "inputs_file": {
            "Signal": [f"{tmp_path}/signal.root:Events"],
            "Background": [f"{tmp_path}/back*.root:Events"],
        },
        "inputs_cut": "HT > 100",
        "input_vars": ["MET", "HT", "Jet_pt[:, 0]"],
        "inputs_padding_value": -1.0,
        "output_path": str(tmp_path / "out"),
        "output_name": "root",
        "max_epochs": 3,
        "produce_inputs_plots": False,
        "search_space": {"batch_size": 128, "num_layers": 1, "units": 8, "learning_rate": 0.01, "dropout": 0.0},
    }
    config.write_text("\n".join(f"{k} = {v!r}" for k, v in settings.items()) + "\n")

    checked = CliRunner().invoke(cli, ["check", str(config), "--data"])
    assert checked.exit_code == 0, checked.output
    assert "ROOT files per class (Signal: 1 file, Background: 1 file)" in checked.output
    assert "passing 'HT > 100'" in checked.output

    outcome = CliRunner().invoke(cli, ["run", str(config), "--cpus", "2"])
    assert not ray.is_initialized()
    assert outcome.exit_code == 0, f"{outcome.output}\n{outcome.exception!r}"
    (evaluation,) = (tmp_path / "out").glob("*/models/evaluation.json")
    report = json.loads(evaluation.read_text())
    assert report["average"]["test"]["roc_auc"]["value"] > 0.8  # MET, HT and the leading jet separate the classes
