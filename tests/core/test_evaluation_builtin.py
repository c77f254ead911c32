"""The core's built-in evaluate with real Keras and Lightning models: loss through get_loss, AUC, native metrics
through get_native_metric_values, custom and composite metrics, evaluation.json, and the plots-skipped notice."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from evaluation_helpers import (
    CONFIG,
    LABELS,
    evaluate,
    hand_loss,
    handler_for,
    make_split,
    run_config_for,
    train,
    values_by_key,
)

from optima_core.engine.crossvalidation import FoldPlan
from optima_core.engine.models import load_model, load_predictor, sharing_loaded_models
from optima_core.evaluation import placeholder_count
from optima_core.evaluation.folds import evaluate_models
from optima_core.metrics import weighted_roc_auc
from optima_core.plugins.manager import create_plugin_manager

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

_TRAINED: dict[tuple[str, int], dict[str, Any]] = {}  # one model per backend and class count for the whole module


@pytest.fixture(scope="module", params=[("Keras", 2), ("Keras", 3), ("Lightning", 2), ("Lightning", 3)], ids=str)
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if request.param not in _TRAINED:
        _TRAINED[request.param] = train(*request.param, tmp_path_factory.mktemp("_".join(map(str, request.param))))
    return _TRAINED[request.param]


def predictions_of(model: dict[str, Any], data: Any) -> np.ndarray:
    run_config = model["run_config"]
    manager = create_plugin_manager(run_config_module=run_config.module)
    predict = load_predictor(run_config, model["path"], handler_for(run_config), model["split"], manager=manager)
    return np.asarray(predict(data["Input"]), dtype=np.float64).reshape(len(data), -1)


def test_the_core_is_the_last_resort_for_evaluate() -> None:
    manager = create_plugin_manager()
    assert manager.hook_providers("evaluate")[-1] == "optima_core.builtin.plugin"
    module = type(sys)("custom_run_config")
    exec("def evaluate(run_config, model_path, model_config, dataset_split, input_handler, fig_dir, native_metrics, "
         "weighted_native_metrics, custom_metrics, composite_metrics, class_labels, cpus, print_results, "
         "return_unfilled):\n    return 'custom'", module.__dict__)  # fmt: skip
    manager = create_plugin_manager(run_config_module=module)
    assert manager.hook_providers("evaluate")[0] != "optima_core.builtin.plugin"
    result = manager.hooks.evaluate(**{name: None for name in ("run_config", "model_path", "model_config")},
        dataset_split=None, input_handler=None, fig_dir=None, native_metrics=[], weighted_native_metrics=[],
        custom_metrics=[], composite_metrics=[], class_labels=None, cpus=1, print_results=False,
        return_unfilled=False)  # fmt: skip
    assert result == "custom"


def test_loss_auc_and_template(trained: dict[str, Any], capsys: pytest.CaptureFixture) -> None:
    outcome = evaluate(trained, None, print_results=True)
    template, values = outcome
    assert template.format(*values) + "\n" == capsys.readouterr().out
    assert placeholder_count(template) == len(values) == len(outcome.keys)
    assert evaluate(trained, None, return_unfilled=False) == template.format(*values)
    found = values_by_key(outcome)
    nodes = 1 if trained["classes"] == 2 else trained["classes"]
    for split, data in zip(("train", "val", "test"), trained["split"], strict=True):
        predictions = predictions_of(trained, data)
        # the built-in get_loss of both backends: the model's loss, event-weighted with 'Weight'
        assert found[(split, "loss")] == pytest.approx(hand_loss(data, predictions), rel=1e-4)
        keep = data["ScaledWeight"] >= 0
        for k in range(nodes):
            key = "roc_auc" if nodes == 1 else f"roc_auc_{k}"
            auc = weighted_roc_auc(data.class_index()[keep] == k, predictions[keep, k], data["ScaledWeight"][keep])
            assert found[(split, key)] == pytest.approx(auc, abs=2e-6)


def native_classes(backend: str) -> tuple[Any, Any]:
    """``(BinaryAccuracy, AUC)`` classes of the backend's framework."""
    if backend == "Keras":
        import keras

        return keras.metrics.BinaryAccuracy, keras.metrics.AUC
    from torchmetrics.classification import BinaryAccuracy, BinaryAUROC

    return BinaryAccuracy, BinaryAUROC


@pytest.mark.parametrize("trained", [("Keras", 2), ("Lightning", 2)], indirect=True, ids=str)
def test_native_weighted_custom_and_composite_metrics(trained: dict[str, Any]) -> None:
    accuracy, _ = native_classes(trained["backend"])
    batches: list[tuple[Any, ...]] = []

    def mean_output(input_batch: tuple[Any, ...], y_pred_batch: np.ndarray) -> float:
        batches.append(input_batch)
        return float(np.mean(y_pred_batch))

    outcome = evaluate(
        trained,
        None,
        native_metrics=[("acc", (accuracy, {}))],
        weighted_native_metrics=[("wacc", (accuracy, {"threshold": 0.4}))],
        custom_metrics=[("mean_out", mean_output)],
        composite_metrics=[
            ("gap", ("val_loss", "train_loss"), lambda val, train: val - train),
            ("better", ("test_acc", "val_wacc"), lambda a, b: a > b),
            ("impossible", ("val_accuracy",), lambda a: a),
        ],
    )
    found = values_by_key(outcome)
    assert "'impossible' skipped: val_accuracy" in outcome[0].format(*outcome[1])
    assert all(len(batch) == 3 for batch in batches) and len(batches) == 3  # (inputs, targets, weights) per split
    for split, data in zip(("train", "val", "test"), trained["split"], strict=True):
        p = predictions_of(trained, data).reshape(-1)
        truth = data["Target"].reshape(-1) > 0.5
        assert found[(split, "acc")] == pytest.approx(np.mean((p > 0.5) == truth), abs=1e-6)
        w = data["Weight"].astype(np.float64)
        assert found[(split, "wacc")] == pytest.approx(np.sum(w * ((p > 0.4) == truth)) / w.sum(), abs=1e-5)
        assert found[(split, "mean_out")] == pytest.approx(np.mean(p), rel=1e-5)
    assert found[("composite", "gap")] == pytest.approx(found[("val", "loss")] - found[("train", "loss")], abs=1e-6)
    assert found[("composite", "better")] is (found[("test", "acc")] > found[("val", "wacc")])


@pytest.mark.parametrize("trained", [("Lightning", 2)], indirect=True, ids=str)
def test_a_weighted_metric_lightning_cannot_weight_is_skipped_with_a_note(trained: dict[str, Any]) -> None:
    from torchmetrics.classification import BinaryCalibrationError

    outcome = evaluate(trained, None, weighted_native_metrics=[("ece", (BinaryCalibrationError, {}))])
    assert "weighted metric 'ece' (BinaryCalibrationError) skipped" in outcome[0]
    assert not any(name == "ece" for _, name in outcome.keys)


RUN_CONFIG_HOOKS = """
import numpy as np

def get_loss(run_config, model_config, model, dataset, input_handler):
    # the reference: called once per dataset, returns a scalar loss. Here: the mean squared error of the outputs.
    squared, count = 0.0, 0
    for batch in dataset:
        inputs, targets = batch[0], batch[1]
        outputs = {predict}
        squared += float(np.sum((np.asarray(outputs).reshape(-1) - np.asarray(targets).reshape(-1)) ** 2))
        count += len(np.asarray(targets))
    return squared / count

def get_native_metric_values(run_config, native_metrics, model_config, model, dataset_or_dataloader, input_handler):
    return [100.0 + i for i, _ in enumerate(native_metrics)]
"""
PREDICT = {"Keras": "model(inputs, training=False)", "Lightning": "model.predict_step(batch, 0).detach()"}


def evaluate_folds(model: dict[str, Any], run_config: Any, out: Path, folds: int = 2) -> dict[str, Any]:
    """``evaluate_models`` of a stage with ``folds`` copies of the model (folds differ in their test split)."""
    manager = create_plugin_manager(run_config_module=run_config.module)
    context = SimpleNamespace(
        run_config=run_config,
        manager=manager,
        hooks=manager.hooks,
        input_handler=handler_for(run_config),
        plan=SimpleNamespace(cpus_per_trial=1),
    )
    plan = FoldPlan("best_value", dict(CONFIG), 5, False, False, False, trial="trial_7", epoch=4)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for k in range(folds):
        files.append(out / f"model_fold{k}{model['path'].suffix}")
        files[-1].write_bytes(model["path"].read_bytes())
    train_split, val_split, _ = model["split"]
    tests = make_split(model["classes"])
    split_of = [{"train": train_split, "val": val_split, "test": tests[k % 3]} for k in range(folds)]
    evaluate_models(context, plan, split_of, files, out)  # type: ignore[arg-type]
    return dict(json.loads((out / "evaluation.json").read_text()))


@pytest.mark.parametrize("trained", [("Keras", 2), ("Lightning", 2)], indirect=True, ids=str)
def test_run_config_get_loss_and_native_metric_values_change_evaluation_json(
    trained: dict[str, Any], tmp_path: Path
) -> None:
    backend = trained["backend"]
    accuracy, _ = native_classes(backend)
    metrics = f"from {accuracy.__module__} import {accuracy.__name__}\nnative_metrics = [('acc', ({accuracy.__name__}, {{}}))]\n"
    builtin = evaluate_folds(trained, run_config_for(tmp_path, backend, metrics, "_builtin"), tmp_path / "builtin")
    extra = metrics + RUN_CONFIG_HOOKS.replace("{predict}", PREDICT[backend])
    custom = evaluate_folds(trained, run_config_for(tmp_path, backend, extra, "_custom"), tmp_path / "custom")

    train, val = trained["split"][:2]
    p, p_val = predictions_of(trained, train).reshape(-1), predictions_of(trained, val).reshape(-1)
    mse = float(np.mean((p - train["Target"].reshape(-1)) ** 2))
    accuracy_val = float(np.mean((p_val > 0.5) == (val["Target"].reshape(-1) > 0.5)))
    for fold in range(2):
        assert custom["folds"][fold]["values"]["train"]["loss"] == pytest.approx(mse, rel=1e-4)
        assert builtin["folds"][fold]["values"]["train"]["loss"] == pytest.approx(
            hand_loss(train, p.reshape(-1, 1)), rel=1e-4
        )
        assert custom["folds"][fold]["values"]["val"]["acc"] == 100.0
        assert builtin["folds"][fold]["values"]["val"]["acc"] == pytest.approx(accuracy_val, abs=1e-6)
    assert custom["average"]["train"]["loss"]["value"] == pytest.approx(custom["folds"][0]["values"]["train"]["loss"])


@pytest.mark.parametrize("trained", [("Keras", 2)], indirect=True, ids=str)
def test_evaluation_json_per_fold_and_average(trained: dict[str, Any], tmp_path: Path) -> None:
    report = evaluate_folds(trained, trained["run_config"], tmp_path / "cv", folds=3)
    assert report["selected"] == {"trial": "trial_7", "epoch": 4, "hyperparameters": CONFIG}
    assert report["spread"] == "mean ± sample std (ddof=1)"
    assert [f["model"] for f in report["folds"]] == ["model_fold0.keras", "model_fold1.keras", "model_fold2.keras"]
    aucs = [f["values"]["test"]["roc_auc"] for f in report["folds"]]
    assert len(set(aucs)) == 3  # three different test splits
    assert report["average"]["test"]["roc_auc"] == {
        "value": pytest.approx(np.mean(aucs)),
        "spread": pytest.approx(np.std(aucs, ddof=1)),
    }
    text = (tmp_path / "cv" / "evaluation.txt").read_text()
    assert text.startswith("Average over 3 folds (mean ± sample std (ddof=1)):")
    assert (tmp_path / "cv" / "model_fold2_evaluation.txt").exists()


@pytest.mark.parametrize("trained", [("Keras", 2), ("Lightning", 2)], indirect=True, ids=str)
def test_a_worker_evaluates_and_exports_a_model_from_one_load(
    trained: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_config, handler, path = trained["run_config"], handler_for(trained["run_config"]), trained["path"]
    manager = create_plugin_manager(run_config_module=run_config.module)
    backend = manager.descriptor("backend", run_config.model_type).load()
    loads: list[Path] = []
    original = backend.load_model.__func__

    def counting(cls: Any, model_path: Path, *args: Any) -> Any:
        loads.append(model_path)
        return original(cls, model_path, *args)

    monkeypatch.setattr(backend, "load_model", classmethod(counting))
    alone = values_by_key(evaluate(trained, None, input_handler=handler))
    assert len(loads) == 1
    with sharing_loaded_models():
        shared = values_by_key(evaluate(trained, None, input_handler=handler))
        exported = load_model(run_config, path, handler, trained["split"], dict(CONFIG), manager=manager)
        assert len(loads) == 2  # the export's load is the evaluation's
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the file changed: loaded again
        assert load_model(run_config, path, handler, trained["split"], dict(CONFIG), manager=manager) is not exported
        assert len(loads) == 3
    load_model(run_config, path, handler, trained["split"], dict(CONFIG), manager=manager)
    assert len(loads) == 4  # outside the block every call loads
    assert shared == alone


@pytest.mark.parametrize("trained", [("Lightning", 2)], indirect=True, ids=str)
def test_a_custom_evaluate_returning_a_template_still_gives_evaluation_json(
    trained: dict[str, Any], tmp_path: Path
) -> None:
    extra = (
        "def evaluate(run_config, model_path, model_config, dataset_split, input_handler, fig_dir, native_metrics,\n"
        "             weighted_native_metrics, custom_metrics, composite_metrics, class_labels, cpus, print_results,\n"
        "             return_unfilled):\n"
        "    return 'Splits:\\n  given: {}\\nScores\\n  a: {} and {}', [len(dataset_split), 0.5, 0.25]\n"
    )
    report = evaluate_folds(trained, run_config_for(tmp_path, "Lightning", extra, "_eval"), tmp_path / "cv")
    assert report["folds"][0]["values"] == {"Splits": {"given": 3}, "Scores": {"a": 0.5, "a [1]": 0.25}}
    assert report["average"]["Scores"]["a [1]"] == {"value": 0.25, "spread": 0.0}


@pytest.mark.parametrize("trained", [("Lightning", 2)], indirect=True, ids=str)
def test_without_plots_the_values_are_written_and_the_skip_is_said_once(
    trained: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("OPTIMA_DISABLE_PLUGINS", "plots")
    run_config = trained["run_config"]
    manager = create_plugin_manager(run_config_module=run_config.module)
    assert "evaluation" not in manager.plots()
    context = SimpleNamespace(
        run_config=run_config,
        manager=manager,
        hooks=manager.hooks,
        input_handler=handler_for(run_config),
        plan=SimpleNamespace(cpus_per_trial=1),
    )
    plan = FoldPlan("fixed", dict(CONFIG), 5, False, False, False)
    for stage in ("first", "second"):  # two stages of one run: one notice
        (tmp_path / stage).mkdir()
        evaluate_models(context, plan, [dict(zip(("train", "val", "test"), trained["split"], strict=True))],  # type: ignore[arg-type]
                        [trained["path"]], tmp_path / stage)  # fmt: skip
        assert (tmp_path / stage / "evaluation.txt").exists()
        report = json.loads((tmp_path / stage / "evaluation.json").read_text())
        assert 0.5 < report["average"]["test"]["roc_auc"]["value"] <= 1.0
        assert not (tmp_path / stage / "plots").exists()
    output = capsys.readouterr().out
    assert output.count("plots skipped") == 1, output
    assert "optima-plots is disabled (OPTIMA_DISABLE_PLUGINS=plots)" in output


def test_labels_are_padded() -> None:
    from optima_core.evaluation.builtin import label_list

    assert label_list(3, LABELS[2]) == ["Higgs", "Top", "class 2"]


def test_the_lightning_builtins_decline_other_backends() -> None:
    pytest.importorskip("lightning")
    from optima_lightning.evaluation import get_loss, get_native_metric_values

    assert get_loss({"model_type": "Keras"}, {}, None, None, None) is None
    assert get_native_metric_values({"model_type": "Keras"}, [], {}, None, None, None) is None
