"""Best-value and best-fit of the same trial share one cross-validation training (issue 14, Deliver 2).

When the two selections differ only in their epoch, the folds are trained once, to the later epoch, and the model
of the earlier epoch is exported on the way. The models, histories and evaluations must be those two separate
trainings give: a deterministic small Lightning run (same seeds) is cross-validated both ways and compared. Every
model is evaluated in the worker that trained it: the driver's own evaluation is made to fail here, so a model
evaluated by the driver would end the test.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from engine_helpers import BACKENDS, FOLDS, SEARCH_SPACE, VARIABLES, sample_inputs, write_events

pytestmark = [pytest.mark.slow, pytest.mark.lightning]

LONG, SHORT = 4, 2  # the epochs of the best-value and the best-fit selection of one trial
CONFIG = {"batch_size": 256, "num_layers": 1, "units": 8, "learning_rate": 0.01, "dropout": 0.1}


def _context(tmp_path: Path) -> Any:
    from optima_core.clusters.local import LocalCluster, ResourceRequest
    from optima_core.config.loader import load_run_config
    from optima_core.engine.context import RunContext, new_input_handler
    from optima_core.engine.output import prepare_output_folder
    from optima_core.plugins.manager import create_plugin_manager
    from optima_core.training.job import RunReference

    events = write_events(tmp_path / "events.parquet")
    source = f"""
    model_type = "Lightning"
    inputs_file = {str(events)!r}
    input_vars = {VARIABLES!r}
    input_scaling = {{"pt": ("log10", (1.0, 0.0))}}
    produce_inputs_plots = False
    output_path = {str(tmp_path / "out")!r}
    output_name = "shared"
    validation_fraction = 0.4
    test_fraction = 0.2
    max_epochs = {LONG}
    random_seed = 42
    """
    path = tmp_path / "run_config.py"
    path.write_text(textwrap.dedent(source) + textwrap.dedent(SEARCH_SPACE))
    run_config = load_run_config(path, None)
    manager = create_plugin_manager(run_config_module=run_config.module)
    plan = LocalCluster().plan(ResourceRequest(cpus=2))
    output = prepare_output_folder(run_config, resume=False)
    handler = new_input_handler(manager.hooks, run_config)
    return RunContext(run_config, manager, plan, output, RunReference.of(run_config), input_handler=handler)


def _plan(label: str, epochs: int) -> Any:
    from optima_core.engine.crossvalidation import FoldPlan

    return FoldPlan(label, dict(CONFIG), epochs, False, False, False, trial="trial_a", epoch=epochs)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One shared cross-validation of both plans, and each plan trained on its own, in one Ray session."""
    pytest.importorskip("optima_lightning")
    from optima_core.engine import crossvalidation
    from optima_core.engine.ray_session import ray_session
    from optima_core.evaluation import folds as fold_evaluation

    tmp_path = tmp_path_factory.mktemp("shared")
    context = _context(tmp_path)
    driver_evaluations: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        driver_evaluations.append(str(args[5]))
        raise AssertionError("a fold model was evaluated by the driver, not by the worker that trained it")

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(fold_evaluation, "evaluate_one", refuse)
    try:
        with ray_session(context.plan):
            shared = crossvalidation.crossvalidate_plans(
                context,
                {"best-value": _plan("best_value", LONG), "best-fit": _plan("best_fit", SHORT)},
                context.output / "shared",
                list(VARIABLES),
                "main_hyperopt",
            )
            separate = {
                label: crossvalidation.train_folds(
                    context, _plan(label, epochs), context.output / "alone" / label, VARIABLES
                )
                for label, epochs in (("best_value", LONG), ("best_fit", SHORT))
            }
    finally:
        monkeypatch.undo()
    return {"shared": shared, "separate": separate, "context": context, "driver_evaluations": driver_evaluations}


def _predictions(folder: Path) -> list[np.ndarray]:
    load = BACKENDS["Lightning"].load
    return [load(folder / f"model_fold{k}.ckpt")(sample_inputs()) for k in range(FOLDS)]


@pytest.mark.parametrize("label", ["best_value", "best_fit"])
def test_a_shared_training_gives_the_models_of_separate_trainings(trained: dict[str, Any], label: str) -> None:
    output = trained["context"].output
    shared, alone = output / "shared" / label, output / "alone" / label
    for together, apart in zip(_predictions(shared), _predictions(alone), strict=True):
        assert together.shape == (64, 1)
        np.testing.assert_allclose(together, apart, rtol=1e-5, atol=1e-6)
    for k in range(FOLDS):
        history = pd.read_csv(shared / f"model_fold{k}_history.csv")
        assert list(history["epoch"]) == list(range(1, (LONG if label == "best_value" else SHORT) + 1))
        pd.testing.assert_frame_equal(history, pd.read_csv(alone / f"model_fold{k}_history.csv"), rtol=1e-5)


@pytest.mark.parametrize("kind", ["best-value", "best-fit"])
def test_a_shared_training_gives_the_evaluation_of_separate_trainings(trained: dict[str, Any], kind: str) -> None:
    label = kind.replace("-", "_")
    output = trained["context"].output
    together = json.loads((output / "shared" / label / "evaluation.json").read_text())
    apart = json.loads((output / "alone" / label / "evaluation.json").read_text())
    assert (
        together["selected"]
        == apart["selected"]
        == {"trial": "trial_a", "epoch": together["selected"]["epoch"]} | {"hyperparameters": CONFIG}
    )
    assert len(together["folds"]) == FOLDS
    for mine, theirs in zip(together["folds"], apart["folds"], strict=True):
        assert mine["values"].keys() == theirs["values"].keys() and "test" in mine["values"]
        for split, values in mine["values"].items():
            assert values.keys() == theirs["values"][split].keys()
            np.testing.assert_allclose(list(values.values()), list(theirs["values"][split].values()), rtol=1e-5)
    assert trained["shared"][kind].values == pytest.approx(trained["separate"][label].values, rel=1e-5)
    assert 0.5 < together["average"]["test"]["roc_auc"]["value"] <= 1.0


def test_the_folds_are_trained_once_and_evaluated_in_their_workers(trained: dict[str, Any]) -> None:
    shared = trained["context"].output / "shared"
    experiments = sorted(p.name for p in (shared / "tune").iterdir() if p.is_dir())
    assert experiments == ["crossvalidation_best_value"]
    plan = json.loads((shared / "best_fit" / "optima_plan.json").read_text())
    assert plan["trained_by"] == "best_value" and plan["max_epochs"] == SHORT
    assert trained["driver_evaluations"] == []
    for label in ("best_value", "best_fit"):
        assert not list((shared / label).glob("*.optima_evaluation.pkl"))  # read and removed by the driver
        assert sorted(p.name for p in (shared / label / "plots").iterdir()) == [f"model_fold{k}" for k in range(FOLDS)]
        assert (shared / label / "model_fold0_evaluation.txt").read_text().strip()


def test_plans_share_a_training_only_when_they_differ_in_the_epoch_alone() -> None:
    import dataclasses

    from optima_core.engine.crossvalidation import shared_groups

    value, fit = _plan("best_value", LONG), _plan("best_fit", SHORT)
    assert shared_groups([fit, value]) == [[value, fit]]
    other = dataclasses.replace(fit, model_config={**CONFIG, "units": 16})
    assert shared_groups([value, other]) == [[value], [other]]
    early = [dataclasses.replace(p, use_early_stopping=True, restore_best_weights=True) for p in (value, fit)]
    assert shared_groups(early) == [[early[0]], [early[1]]]  # the best epoch of a longer training may come later
    same_length = dataclasses.replace(early[1], max_epochs=LONG)
    assert shared_groups([early[0], same_length]) == [[early[0], same_length]]


def test_the_workers_evaluation_is_the_one_the_driver_would_write(trained: dict[str, Any], tmp_path: Path) -> None:
    """The driver evaluates copies of the same models (as it did before evaluations moved to the workers)."""
    import shutil

    from optima_core.evaluation.folds import evaluate_models

    context = trained["context"]
    source = context.output / "shared" / "best_fit"
    files = [shutil.copy(source / f"model_fold{k}.ckpt", tmp_path / f"model_fold{k}.ckpt") for k in range(FOLDS)]
    text = evaluate_models(context, _plan("best_fit", SHORT), context.inputs(True), [Path(f) for f in files], tmp_path)
    assert text.startswith(f"Average over {FOLDS} folds")
    in_driver = json.loads((tmp_path / "evaluation.json").read_text())
    in_worker = json.loads((source / "evaluation.json").read_text())
    assert in_driver.keys() == in_worker.keys() and in_driver["selected"] == in_worker["selected"]
    for mine, theirs in zip(in_driver["folds"], in_worker["folds"], strict=True):
        assert mine["model"] == theirs["model"]
        for split, values in mine["values"].items():
            assert values == pytest.approx(theirs["values"][split], rel=1e-6)
    for split, values in in_driver["average"].items():
        for name, summary in values.items():
            assert summary == pytest.approx(in_worker["average"][split][name], rel=1e-6)
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [f"model_fold{k}" for k in range(FOLDS)]
