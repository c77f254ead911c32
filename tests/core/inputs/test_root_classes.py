"""ROOT inputs per class: ``inputs_file`` maps each class label to ROOT files (globs with ``:tree``), with an
``inputs_cut`` and jagged branches indexed per event (``Jet_pt[:, 0]``, padded with ``inputs_padding_value``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optima_core.config.loader import RunConfig, load_run_config
from optima_core.config.validation import validate
from optima_core.inputs.errors import InputDataError
from optima_core.inputs.loading import load_event_data

uproot = pytest.importorskip("uproot")
ak = pytest.importorskip("awkward")


def run_config(**values: Any) -> RunConfig:
    """The resolved run-config of a file setting ``values`` (fixed hyperparameters, nothing else)."""
    settings = {"perform_variable_opt": False, "perform_main_hyperopt": False, "perform_PBT_hyperopt": False}
    settings["search_space"] = {"batch_size": 64}
    path = Path(tempfile.mkdtemp(prefix="optima-root-config-")) / "run_config.py"
    path.write_text("\n".join(f"{k} = {v!r}" for k, v in {**settings, **values}.items()) + "\n")
    return load_run_config(path)


def events(n: int, seed: int, first_event: int, signal: bool) -> dict[str, Any]:
    """Flat branches and a jagged ``Jet_pt`` (0 to 3 jets per event), as numpy / awkward arrays."""
    rng = np.random.default_rng(seed)
    n_jets = rng.integers(0, 4, n)
    offsets = np.concatenate([[0], np.cumsum(n_jets)])
    pts = rng.exponential(60.0 if signal else 30.0, offsets[-1]).astype(np.float32)
    return {
        "MET": rng.exponential(40.0 if signal else 20.0, n),
        "nJet": n_jets.astype(np.int32),
        "Jet_pt": ak.unflatten(pts, n_jets),
        "Weight": rng.uniform(0.5, 1.5, n),
        "EventNumber": np.arange(first_event, first_event + n, dtype=np.int64),
    }


def write_root(path: Path, branches: dict[str, Any], tree: str = "Events") -> Path:
    with uproot.recreate(path) as handle:
        types = {k: ("var * float32" if k == "Jet_pt" else v.dtype) for k, v in branches.items()}
        handle.mktree(tree, types)
        handle[tree].extend(branches)
    return path


@pytest.fixture
def samples(tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """One signal file, background in two files matched by a glob."""
    signal = [events(80, 1, 0, True)]
    background = [events(50, 2, 1000, False), events(70, 3, 2000, False)]
    write_root(tmp_path / "signal.root", signal[0])
    for i, branches in enumerate(background):
        write_root(tmp_path / f"bkg_{i}.root", branches)
    return {"Signal": signal, "Background": background}


def mapping(tmp_path: Path) -> dict[str, list[str]]:
    return {"Signal": [f"{tmp_path}/signal.root:Events"], "Background": [f"{tmp_path}/bkg_*.root:Events"]}


def expected_rows(samples: dict[str, list[dict[str, Any]]], cut: float, padding: float) -> dict[int, tuple]:
    """``event number -> (class target, MET, jet 1 pt, jet 2 pt, weight)`` of the events passing ``MET > cut``."""
    rows = {}
    for label, files in samples.items():
        for branches in files:
            for i, number in enumerate(branches["EventNumber"]):
                if branches["MET"][i] <= cut:
                    continue
                jets = [*branches["Jet_pt"][i], padding, padding]
                target = 1.0 if label == "Signal" else 0.0
                rows[int(number)] = (target, branches["MET"][i], jets[0], jets[1], branches["Weight"][i])
    return rows


def test_classes_cut_and_jagged_entries_are_loaded(tmp_path: Path, samples: dict) -> None:
    config = run_config(
        inputs_file=mapping(tmp_path),
        inputs_cut="MET > 15",
        input_vars=["MET", "Jet_pt[:, 0]", "Jet_pt[:, 1]"],
        inputs_padding_value=-1.0,
    )
    assert validate(config).problems == []
    data = load_event_data(config, np.inf, config.input_vars)

    expected = expected_rows(samples, cut=15, padding=-1.0)
    assert len(data) == len(expected) and 0 < len(expected) < 200  # the cut removed some events, not all
    assert data.variables == ["MET", "Jet_pt[:, 0]", "Jet_pt[:, 1]"]
    rows = {int(n): i for i, n in enumerate(data["EventNumber"])}
    assert set(rows) == set(expected)
    for number, (target, met, jet1, jet2, weight) in expected.items():
        row = rows[number]
        assert data["Target"][row, 0] == target
        np.testing.assert_allclose(data["Input"][row], [met, jet1, jet2], rtol=1e-6)
        np.testing.assert_allclose(data["ScaledWeight"][row], weight, rtol=1e-6)
    assert (data["Input"][:, 2] == -1.0).any() and (data["Input"][:, 1] > 0).any()  # padding used and real jets
    signal = data["Target"][:, 0] == 1
    for selected in (signal, ~signal):  # weights are normalised per class, as for flat files
        assert data["Weight"][selected].sum() == pytest.approx(data["Weight"][~selected].sum(), rel=1e-4)


def test_three_classes_get_one_hot_targets_in_label_order(tmp_path: Path, samples: dict) -> None:
    labels = ["Signal", "TTbar", "WJets"]
    files = {"Signal": mapping(tmp_path)["Signal"], "TTbar": [str(tmp_path / "bkg_0.root")]}
    files["WJets"] = [str(tmp_path / "bkg_1.root")]
    config = run_config(inputs_file=files, evaluation_class_labels=labels, input_vars=["MET", "nJet"])
    assert validate(config).problems == []
    data = load_event_data(config, np.inf, config.input_vars)
    assert data["Target"].shape == (200, 3)
    numbers = data["EventNumber"]
    for column, (low, high) in enumerate([(0, 1000), (1000, 2000), (2000, 3000)]):
        in_class = (numbers >= low) & (numbers < high)
        assert (data["Target"][in_class, column] == 1).all() and data["Target"][in_class].sum() == in_class.sum()


@pytest.mark.parametrize(
    ("files", "values", "message"),
    [
        ({"Sgnal": "S", "Background": "B"}, {}, "expected one entry per label of evaluation_class_labels"),
        ({"Signal": "S", "Background": "{tmp}/nothing_*.root:Events"}, {}, "expected a pattern matching ROOT files"),
        ({"Signal": "{tmp}/signal.root:Event", "Background": "B"}, {}, "did you mean 'Events'?"),
        ({"Signal": "S", "Background": "B"}, {"inputs_tree_name": "Tree"}, "expected a tree of the file"),
        ({"Signal": ["S", 3], "Background": "B"}, {}, "inputs_file = "),
    ],
    ids=["label", "pattern", "tree-in-pattern", "inputs_tree_name", "not-a-pattern"],
)
def test_the_mapping_is_checked_before_loading(
    tmp_path: Path, samples: dict, files: dict, values: dict, message: str
) -> None:
    known = {"S": str(tmp_path / "signal.root"), "B": f"{tmp_path}/bkg_*.root"}
    resolved = {
        k: [known.get(p, p).format(tmp=tmp_path) if isinstance(p, str) else p for p in v]
        if isinstance(v, list)
        else known.get(v, v).format(tmp=tmp_path)
        for k, v in files.items()
    }
    problems = [str(p) for p in validate(run_config(inputs_file=resolved, **values)).problems]
    assert any(message in p for p in problems), problems
    if message.startswith("expected one entry"):
        assert any("did you mean 'Signal'?" in p and "no files for ['Signal']" in p for p in problems), problems


def test_a_jagged_branch_without_index_and_a_bad_cut_are_named(tmp_path: Path, samples: dict) -> None:
    config = run_config(inputs_file=mapping(tmp_path), input_vars=["MET", "Jet_pt"])
    with pytest.raises(InputDataError) as raised:
        load_event_data(config, np.inf, config.input_vars)
    assert "input variable = 'Jet_pt': expected a numeric column" in str(raised.value)

    config = run_config(inputs_file=mapping(tmp_path), inputs_cut="MTE > 15", input_vars=["MET"])
    with pytest.raises(InputDataError) as raised:
        load_event_data(config, np.inf, config.input_vars)
    assert "inputs_cut = 'MTE > 15': expected an uproot cut expression" in str(raised.value)


def test_an_indexed_branch_reads_a_single_root_file_too(tmp_path: Path, samples: dict) -> None:
    branches = {**samples["Signal"][0], "target": (samples["Signal"][0]["MET"] > 40).astype(np.int8)}
    path = write_root(tmp_path / "single.root", branches)
    config = run_config(inputs_file=str(path), input_vars=["Jet_pt[:, 2]"])
    data = load_event_data(config, np.inf, config.input_vars)
    third = {
        int(n): [*jets, 0.0, 0.0, 0.0][2] for n, jets in zip(branches["EventNumber"], branches["Jet_pt"], strict=True)
    }
    for number, value in zip(data["EventNumber"], data["Input"][:, 0], strict=True):
        assert value == pytest.approx(third[int(number)])  # the default padding is 0.0
