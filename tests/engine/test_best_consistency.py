"""One definition of "best" everywhere (issue 11, Deliver 2).

A small real main HPO (Lightning, random sampling, ASHA with a grace period of one epoch, so that weak trials are
stopped) is shared by the end-to-end tests: the Optuna study names the Tune trials, ASHA-stopped trials are PRUNED
in it, the study's best-value / best-fit attributes are selection.json's, ``trials.json`` agrees with the study, and
the progress lines' best value is selection.json's best value. The best-fit reason and fit numbers are checked on
synthetic histories with the built-in fit (no Ray).
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_helpers import VARIABLES, write_events

MAX_EPOCHS = 4
NUM_SAMPLES = 8
#: A wide learning-rate range, so that some trials are clearly worse after one epoch and ASHA stops them.
SEARCH_SPACE = """
search_space = {
    "batch_size": 256,
    "num_layers": 1,
    "units": 8,
    "learning_rate": {"type": "range", "bounds": [1e-4, 3e-2], "sampling": "log"},
    "dropout": 0.0,
}
"""


@pytest.fixture(scope="module")
def hpo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``optima run`` of a small main HPO, once for the module: its stage folder, console output and study."""
    for module in ("lightning", "torch", "optima_lightning"):
        pytest.importorskip(module)
    import optuna
    import ray
    from click.testing import CliRunner

    from optima_core.cli import cli

    tmp_path = tmp_path_factory.mktemp("best")
    settings = {
        "perform_variable_opt": False,
        "perform_main_hyperopt": True,
        "perform_PBT_hyperopt": False,
        "model_type": "Lightning",
        "inputs_file": str(write_events(tmp_path / "events.parquet")),
        "input_vars": VARIABLES,
        "input_scaling": {"pt": ("log10", (1.0, 0.0))},
        "produce_inputs_plots": False,
        "output_path": str(tmp_path / "out"),
        "output_name": "best",
        "validation_fraction": 0.4,
        "test_fraction": 0.2,
        "max_epochs": MAX_EPOCHS,
        "num_samples_main": NUM_SAMPLES,
        "use_TPESampler": False,
        "ASHA_grace_period": 1,
        "ASHA_reduction_factor": 2,
        "random_seed": 42,
    }
    config = tmp_path / "run_config.py"
    lines = [f"{key} = {value!r}" for key, value in settings.items()]
    config.write_text("\n".join(lines) + "\n" + textwrap.dedent(SEARCH_SPACE))
    assert not ray.is_initialized()
    outcome = CliRunner().invoke(cli, ["run", str(config), "--cpus", "2"])
    assert not ray.is_initialized()
    assert outcome.exit_code == 0, f"{outcome.output}\n{outcome.exception!r}"
    stage = tmp_path / "out" / "main_best" / "main_hyperopt"
    study = optuna.load_study(study_name="main_hyperopt", storage=f"sqlite:///{stage / 'optuna_study.db'}")
    return {"stage": stage, "output": outcome.output, "study": study}


def _tune_trials(stage: Path) -> dict[str, list[dict[str, Any]]]:
    """Every Tune trial of the stage's experiment: its id and its reported rows (from its ``result.json``)."""
    trials = {}
    for trial_dir in (stage / "tune" / "trials").glob("run_trial_*"):
        rows = [json.loads(line) for line in (trial_dir / "result.json").read_text().splitlines() if line.strip()]
        assert rows, trial_dir
        trials[str(rows[-1]["trial_id"])] = rows
    return trials


def _selection(stage: Path) -> dict[str, Any]:
    return dict(json.loads((stage / "selection.json").read_text()))


@pytest.mark.slow
@pytest.mark.lightning
def test_optuna_trials_name_their_tune_trials_and_asha_stops_are_pruned(hpo_run: dict[str, Any]) -> None:
    from optuna.trial import TrialState

    tune_trials = _tune_trials(hpo_run["stage"])
    study_trials = hpo_run["study"].get_trials(deepcopy=False)
    assert len(study_trials) == len(tune_trials) == NUM_SAMPLES
    named = [t.user_attrs.get("tune_trial_id") for t in study_trials]
    assert sorted(named) == sorted(tune_trials), (named, sorted(tune_trials))
    stopped = 0
    for frozen in study_trials:
        rows = tune_trials[frozen.user_attrs["tune_trial_id"]]
        last_epoch = int(rows[-1]["epoch"])
        assert frozen.user_attrs["epochs"] == last_epoch, frozen
        # No early stopping within MAX_EPOCHS epochs (patience 6) and no failure: a short trial is an ASHA stop.
        if last_epoch < MAX_EPOCHS:
            stopped += 1
            assert frozen.state == TrialState.PRUNED, frozen
            assert frozen.user_attrs["stopped"] == f"stopped by ASHA at epoch {last_epoch}"
            assert frozen.value == pytest.approx(rows[-1]["optima_target"])  # the value it was stopped with
        else:
            assert frozen.state == TrialState.COMPLETE, frozen
            assert "stopped" not in frozen.user_attrs
    assert stopped, "ASHA stopped no trial: the premise of this test failed"


@pytest.mark.slow
@pytest.mark.lightning
def test_the_study_attributes_are_the_selection(hpo_run: dict[str, Any]) -> None:
    selection = _selection(hpo_run["stage"])
    attributes = hpo_run["study"].user_attrs
    for kind, attribute in (("best-value", "best_value"), ("best-fit", "best_fit")):
        chosen = selection.get(kind)
        expected = None if chosen is None else {k: chosen[k] for k in ("epoch", "value")}
        if expected is not None:
            expected["tune_trial_id"] = chosen["trial"]
        assert attributes[attribute] == expected, (attribute, attributes, selection)
    best = selection["best-value"]
    assert best["reason"].startswith("lowest val_loss over all epochs of all trials"), best
    assert "last valid epoch" in selection["objective_note"]  # optimize_on_best_value is False here
    assert "why: lowest val_loss" in (hpo_run["stage"] / "selection.txt").read_text()


@pytest.mark.slow
@pytest.mark.lightning
def test_trials_json_agrees_with_the_study_and_the_selection(hpo_run: dict[str, Any]) -> None:
    from optuna.trial import TrialState

    stage = hpo_run["stage"]
    records = json.loads((stage / "trials.json").read_text())
    by_number = {t.number: t for t in hpo_run["study"].get_trials(deepcopy=False)}
    tune_trials = _tune_trials(stage)
    assert sorted(r["tune_trial_id"] for r in records) == sorted(tune_trials)
    for record in records:
        frozen = by_number[record["optuna_trial_number"]]
        assert frozen.user_attrs["tune_trial_id"] == record["tune_trial_id"]
        assert record["epochs"] == frozen.user_attrs["epochs"]
        assert record["state"] == ("stopped" if frozen.state == TrialState.PRUNED else "completed"), record
        assert record["stopped_at_epoch"] == (frozen.user_attrs["epochs"] if record["state"] == "stopped" else None)
        assert record["error"] is None
        assert record["config"]["learning_rate"] == pytest.approx(frozen.params["learning_rate"])
        rows = tune_trials[record["tune_trial_id"]]
        losses = [row["val_loss"] for row in rows if row["optima_valid"]]
        assert record["value"] == pytest.approx(min(losses))
        assert rows[[row["val_loss"] for row in rows].index(record["value"])]["epoch"] == record["best_epoch"]
        assert record["last_value"] == pytest.approx(rows[-1]["val_loss"])
    best = _selection(stage)["best-value"]
    winner = min(records, key=lambda r: r["value"])
    assert (winner["tune_trial_id"], winner["best_epoch"], winner["value"]) == (
        best["trial"],
        best["epoch"],
        best["value"],
    )


@pytest.mark.slow
@pytest.mark.lightning
def test_the_progress_lines_show_the_value_selection_picks(hpo_run: dict[str, Any]) -> None:
    best = _selection(hpo_run["stage"])["best-value"]
    lines = [line for line in hpo_run["output"].splitlines() if re.match(r"\[\d+/8\] trial ", line)]
    assert len(lines) == NUM_SAMPLES, hpo_run["output"]
    assert all("val_loss at its best valid epoch = " in line for line in lines), lines
    found = re.search(r"; best (\S+) \((\S+), epoch (\d+)\)", lines[-1])
    assert found, lines[-1]
    assert found.groups() == (f"{best['value']:.5g}", best["trial"], str(best["epoch"])), (lines[-1], best)
    assert (hpo_run["stage"] / "search_overview.png").is_file()


def test_best_fit_says_which_fit_and_how_good_it_is() -> None:
    import pandas as pd

    from optima_core.builtin.fit import fit_history
    from optima_core.selection import TrialHistory, best_fit

    epochs = np.arange(1, 16)
    rng = np.random.default_rng(3)
    trials = [
        TrialHistory(name, {"learning_rate": lr}, pd.DataFrame({"epoch": epochs, "val_loss": curve}))
        for name, lr, curve in (
            ("smooth", 1e-3, 0.3 + 1.0 / epochs + 0.002 * epochs),
            ("noisy", 1e-2, 0.2 + 0.3 * rng.random(len(epochs))),
            ("short", 1e-1, 0.5 + 0.0 * epochs),
        )
    ]
    trials[2].frame = trials[2].frame.head(3)

    def fit(df: Any, metric: str, op: Any, conditions: Any) -> Any:
        return fit_history(df, metric)

    selection, skipped = best_fit(trials, "val_loss", "min", [], fit, 0.9, False, fit_name="the built-in fit")
    assert selection is not None and selection.trial_id == "smooth"
    assert set(skipped) == {"noisy", "short"}
    details = selection.details["fit"]
    assert details["function"] == "the built-in fit" and details["trials_fitted"] == 1
    assert 0.9 <= details["r_squared"] <= 1.0
    assert details["fitted_value"] == pytest.approx(selection.value)
    assert details["measured_value"] == pytest.approx(trials[0].frame["val_loss"].iloc[selection.epoch - 1])
    assert f"R² = {details['r_squared']:.3f}" in selection.reason
    assert selection.reason.startswith("lowest fitted val_loss of the 1 trials whose fit (the built-in fit)")


def test_trial_records_without_a_study_name_failed_and_diverged_trials() -> None:
    """PBT has no Optuna study (numbers are null); a raised or diverged trial is 'failed' with its error."""
    from types import SimpleNamespace

    import pandas as pd

    from optima_core.engine.trial_records import trial_records
    from optima_core.selection import TrialHistory

    def frame(losses: list[float], valid: list[bool]) -> Any:
        epochs = list(range(1, len(losses) + 1))
        return pd.DataFrame({"epoch": epochs, "val_loss": losses, "optima_valid": valid})

    good = frame([0.5, 0.3, 0.2, 0.4], [True, True, False, True])  # epoch 3 fails an overtraining condition
    results = [
        SimpleNamespace(
            metrics={"trial_id": "a", "epoch": 4}, path="/x/a", error=None, config={"lr": 1, "optima_seed": 3}
        ),
        SimpleNamespace(
            metrics={"trial_id": "b", "epoch": 2, "val_loss": float("nan"), "optima_diverged": True},
            path="/x/b",
            error=None,
            config={"lr": 2},
        ),
        SimpleNamespace(metrics={}, path="/x/c", error=RuntimeError("trace\n  line\nValueError: bad units"), config={}),
    ]
    found = [
        TrialHistory("a", {"lr": 1}, good),
        TrialHistory("b", {"lr": 2}, frame([0.6, float("nan")], [True, False])),
    ]
    a, b, c = trial_records(results, found, "val_loss", "min")
    assert a == {
        "tune_trial_id": "a",
        "optuna_trial_number": None,
        "config": {"lr": 1},
        "value": 0.3,
        "best_epoch": 2,
        "last_value": 0.4,
        "epochs": 4,
        "state": "completed",
        "stopped_at_epoch": None,
        "error": None,
    }
    assert (b["state"], b["value"], b["best_epoch"], b["last_value"], b["epochs"]) == ("failed", 0.6, 1, None, 2)
    assert b["error"].startswith("training diverged: val_loss became nan")
    assert (c["tune_trial_id"], c["state"], c["error"], c["value"], c["epochs"]) == (
        "c",
        "failed",
        "ValueError: bad units",
        None,
        0,
    )
