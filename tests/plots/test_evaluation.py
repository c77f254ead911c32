"""The built-in evaluate of optima-plots with real Keras and Lightning models: figures, loss, AUC, metrics, template."""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optima_core.builtin.input_handler import InputHandler
from optima_core.config.loader import RunConfig, load_run_config
from optima_core.engine.models import load_predictor
from optima_core.evaluation import placeholder_count
from optima_core.inputs.dataset import EventData
from optima_core.metrics import weighted_roc_auc
from optima_core.plugins.manager import create_plugin_manager

pytest.importorskip("matplotlib")

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

VARS = ["a", "b", "c"]
CONFIG = {"batch_size": 128, "num_layers": 1, "units": 8}
LABELS = {2: ["Higgs", "Top"], 3: ["Higgs", "Top", "W"]}


def make_events(n: int, classes: int, seed: int) -> EventData:
    """Separable classes; ``ScaledWeight`` has about 10 % negative weights, ``Weight`` is positive."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, classes, n)
    x = rng.normal(size=(n, len(VARS))) - 1.5 * label[:, None]
    target = (label == 0).astype(np.float32) if classes == 2 else np.eye(classes)[label]
    scaled = rng.normal(1.0, 0.8, n)
    return EventData({"Input": x, "Target": target, "Weight": rng.uniform(0.5, 1.5, n), "ScaledWeight": scaled}, VARS)


def make_split(classes: int, with_test: bool = True) -> tuple[EventData, ...]:
    sizes = (600, 200, 200) if with_test else (600, 200)
    return tuple(make_events(n, classes, seed=10 * classes + i) for i, n in enumerate(sizes))


def run_config_for(tmp_path: Path, backend: str, extra: str = "") -> RunConfig:
    path = tmp_path / f"run_config_{backend}.py"
    path.write_text(f"model_type = {backend!r}\ninput_vars = {VARS!r}\n{extra}")
    return load_run_config(path)


def keras_model(tmp_path: Path, run_config: RunConfig, classes: int, split: tuple[EventData, ...]) -> Path:
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    from optima_keras.compile import compile_model
    from optima_keras.data import to_tensorflow_dataset
    from optima_keras.models import build_model

    keras.utils.set_random_seed(3)
    config = {**CONFIG, "loss_function": "BinaryCrossentropy" if classes == 2 else "CategoricalCrossentropy"}
    handler = handler_for(run_config)
    data = to_tensorflow_dataset(split[0], CONFIG["batch_size"])
    model = compile_model(build_model(config, handler, data), config, [], [], handler, data, True)
    model.fit(data, epochs=1, verbose=0)
    path = tmp_path / f"keras_{classes}.keras"
    model.save(path)
    return path


def lightning_model(tmp_path: Path, run_config: RunConfig, classes: int, split: tuple[EventData, ...]) -> Path:
    torch = pytest.importorskip("torch")
    lightning = pytest.importorskip("lightning")
    from optima_lightning.data import DefaultDataModule
    from optima_lightning.mlp import LitModel

    torch.manual_seed(3)
    handler = handler_for(run_config)
    model = LitModel(model_config=dict(CONFIG), input_vars=VARS, metrics=[], weighted_metrics=[])
    module = DefaultDataModule(run_config, CONFIG, handler, dataset_train=split[0], dataset_val=split[1])
    module.setup("fit")
    model.prepare(handler, module, True)
    trainer = lightning.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, datamodule=module)
    path = tmp_path / f"lightning_{classes}.ckpt"
    state = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}
    torch.save({**state, "pytorch-lightning_version": lightning.__version__}, path)
    return path


def handler_for(run_config: RunConfig) -> InputHandler:
    handler = InputHandler(run_config)
    handler.set_vars(VARS)
    return handler


BUILDERS = {"Keras": keras_model, "Lightning": lightning_model}


_TRAINED: dict[tuple[str, int], dict[str, Any]] = {}  # one model per backend and class count for the whole module


@pytest.fixture(scope="module", params=[("Keras", 2), ("Keras", 3), ("Lightning", 2), ("Lightning", 3)], ids=str)
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if request.param not in _TRAINED:
        _TRAINED[request.param] = train(*request.param, tmp_path_factory)
    return _TRAINED[request.param]


def train(backend: str, classes: int, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp(f"{backend}_{classes}")
    run_config = run_config_for(tmp_path, backend)
    split = make_split(classes)
    path = BUILDERS[backend](tmp_path, run_config, classes, split)
    return {"backend": backend, "classes": classes, "run_config": run_config, "split": split, "path": path}


def evaluate(model: dict[str, Any], fig_dir: Path | None, **overrides: Any) -> Any:
    run_config = overrides.pop("run_config", model["run_config"])
    manager = create_plugin_manager(run_config_module=run_config.module)
    arguments = {
        "run_config": run_config,
        "model_path": model["path"],
        "model_config": dict(CONFIG),
        "dataset_split": model["split"],
        "input_handler": handler_for(run_config),
        "fig_dir": fig_dir,
        "native_metrics": [],
        "weighted_native_metrics": [],
        "custom_metrics": [],
        "composite_metrics": [],
        "class_labels": LABELS[model["classes"]],
        "cpus": 1,
        "print_results": False,
        "return_unfilled": True,
        **overrides,
    }
    return manager.hooks.evaluate(**arguments)


def values_by_label(template: str, values: list[Any]) -> dict[str, Any]:
    """``'<heading> | <label>' -> value`` for every ``label: {}`` line of the template."""
    found: dict[str, Any] = {}
    heading = ""
    index = 0
    for line in template.splitlines():
        if not line.startswith(" "):
            heading = line.split(" (")[0].rstrip(":")
        elif line.endswith(": {}"):
            found[f"{heading} | {line.strip()[: -len(': {}')]}"] = values[index]
            index += 1
    assert index == len(values), "every value has its own 'label: {}' line"
    return found


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def hand_loss(data: EventData, predictions: np.ndarray) -> float:
    p = np.clip(predictions.astype(np.float64), 1e-7, 1 - 1e-7)
    y = data["Target"].astype(np.float64)
    if y.shape[1] == 1:
        per_event = -(y * np.log(p) + (1 - y) * np.log(1 - p))[:, 0]
    else:
        per_event = -(y * np.log(p)).sum(axis=1)
    w = data["Weight"].astype(np.float64)
    return float(np.sum(w * per_event) / np.sum(w))


def test_the_plots_plugin_is_the_last_resort_for_evaluate() -> None:
    assert create_plugin_manager().hook_providers("evaluate")[-1] == "plots"
    module = type(sys)("custom_run_config")
    exec("def evaluate(run_config, model_path, model_config, dataset_split, input_handler, fig_dir, native_metrics, "
         "weighted_native_metrics, custom_metrics, composite_metrics, class_labels, cpus, print_results, "
         "return_unfilled):\n    return 'custom'", module.__dict__)  # fmt: skip
    manager = create_plugin_manager(run_config_module=module)
    assert manager.hook_providers("evaluate")[0] != "plots"
    result = manager.hooks.evaluate(**{name: None for name in ("run_config", "model_path", "model_config")},
        dataset_split=None, input_handler=None, fig_dir=None, native_metrics=[], weighted_native_metrics=[],
        custom_metrics=[], composite_metrics=[], class_labels=None, cpus=1, print_results=False,
        return_unfilled=False)  # fmt: skip
    assert result == "custom"


def test_figures_loss_auc_and_template(trained: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    template, values = evaluate(trained, tmp_path / "figs", print_results=True)
    printed = capsys.readouterr().out
    assert placeholder_count(template) == len(values) == template.count("{}")
    assert template.format(*values) + "\n" == printed
    assert evaluate(trained, None, return_unfilled=False) == template.format(*values)

    classes = trained["classes"]
    nodes = 1 if classes == 2 else classes
    expected = {f"{kind}_node{k}{suffix}" for kind in ("outputs_stacked", "outputs_normalised", "roc") for k in
                range(nodes) for suffix in (".png", ".pdf")}  # fmt: skip
    assert {p.name for p in (tmp_path / "figs").iterdir()} == expected
    for name in expected:
        path = tmp_path / "figs" / name
        if name.endswith(".png"):
            width, height = png_size(path)
            assert 200 < width <= 800 and 200 < height <= 600  # pitfall 18: no 4800x3600 PNGs
        else:
            assert path.read_bytes()[:5] == b"%PDF-"

    run_config, split = trained["run_config"], trained["split"]
    predict = load_predictor(run_config, trained["path"], handler_for(run_config), split)
    found = values_by_label(template, values)
    labels = LABELS[classes]
    for split_name, data in zip(("training", "validation", "testing"), split, strict=True):
        predictions = np.asarray(predict(data["Input"])).reshape(len(data), -1)
        assert predictions.shape[1] == nodes
        assert found[f"Loss | {split_name}"] == pytest.approx(hand_loss(data, predictions), rel=2e-5)
        keep = data["ScaledWeight"] >= 0
        assert 0 < (~keep).sum() < len(data)  # some negative weights to exclude
        classes_of = data.class_index()
        for k in range(nodes):
            rest = labels[1] if nodes == 1 else "rest"
            auc = weighted_roc_auc(classes_of[keep] == k, predictions[keep, k], data["ScaledWeight"][keep])
            assert found[f"ROC AUC, one-vs-rest | {labels[k]} vs. {rest} ({split_name})"] == pytest.approx(
                auc, abs=2e-6
            )


def unfiltered_auc(is_positive: np.ndarray, score: np.ndarray, weight: np.ndarray) -> float:
    """The AUC keeping negative weights (what the evaluation must not report)."""
    order = np.argsort(-score, kind="mergesort")
    is_positive, weight = is_positive[order], weight[order]
    tpr = np.r_[0.0, np.cumsum(np.where(is_positive, weight, 0.0))] / weight[is_positive].sum()
    fpr = np.r_[0.0, np.cumsum(np.where(~is_positive, weight, 0.0))] / weight[~is_positive].sum()
    return float(np.trapezoid(tpr, fpr))


def test_negative_weights_are_left_out_of_the_roc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    from optima_plots.roc import plot_roc_curves, roc_curve

    rng = np.random.default_rng(5)
    is_positive = rng.random(3000) < 0.4
    score = rng.random(3000) + 0.3 * is_positive
    weight = np.where(rng.random(3000) < 0.2, -3.0 * rng.random(3000), rng.random(3000))
    weight[(score > 1.0) & ~is_positive] = -2.0  # negative-weight background at high score: matters for the AUC
    kept = weight >= 0
    filtered = weighted_roc_auc(is_positive[kept], score[kept], weight[kept])
    assert abs(filtered - unfiltered_auc(is_positive, score, weight)) > 0.02

    fpr, tpr = roc_curve(is_positive, score, weight)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(filtered)

    drawn: list[Figure] = []
    original = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: (drawn.append(self), original(self, *a, **k)))
    files, aucs = plot_roc_curves([("training", is_positive, score, weight)], "Signal", "Background", tmp_path / "r")
    assert aucs == [pytest.approx(filtered)]
    assert [p.name for p in files] == ["r.png", "r.pdf"]
    legend = drawn[0].axes[0].get_legend()
    assert "negative weights excluded" in legend.get_title().get_text()
    assert f"AUC = {filtered:.4f}" in " ".join(t.get_text() for t in legend.get_texts())


class BinaryAccuracy:  # matched by class name to the NumPy implementation, like torchmetrics' or Keras' class
    pass


class Unsupported:
    pass


@pytest.mark.parametrize("trained", [("Keras", 2), ("Lightning", 2)], indirect=True, ids=str)
def test_metrics_composites_and_notes(trained: dict[str, Any]) -> None:
    batches: list[tuple[Any, ...]] = []

    def mean_output(input_batch: tuple[Any, ...], y_pred_batch: np.ndarray) -> float:
        batches.append(input_batch)
        return float(np.mean(y_pred_batch))

    template, values = evaluate(
        trained,
        None,
        native_metrics=[("acc", (BinaryAccuracy, {})), ("odd{name}", (Unsupported, {}))],
        weighted_native_metrics=[("wacc", (BinaryAccuracy, {"threshold": 0.4}))],
        custom_metrics=[("mean_out", mean_output)],
        composite_metrics=[
            ("gap", ("val_loss", "train_loss"), lambda val, train: val - train),
            ("better", ("test_acc", "val_wacc"), lambda a, b: a > b),
            ("impossible", ("val_accuracy",), lambda a: a),
        ],
    )
    found = values_by_label(template, values)
    assert template.format(*values).count("odd{name}") == 1  # braces in names are escaped in the template
    assert "'odd{name}' (Unsupported) skipped" in template.format(*values)
    assert "'impossible' skipped: val_accuracy" in template.format(*values)
    assert all(len(batch) == 3 for batch in batches) and len(batches) == 3  # (inputs, targets, weights) per split

    run_config, split = trained["run_config"], trained["split"]
    predict = load_predictor(run_config, trained["path"], handler_for(run_config), split)
    for split_name, data in zip(("training", "validation", "testing"), split, strict=True):
        p = np.asarray(predict(data["Input"])).reshape(-1)
        truth = data["Target"].reshape(-1) > 0.5
        assert found[f"Native metrics | acc ({split_name})"] == pytest.approx(np.mean((p >= 0.5) == truth), abs=1e-6)
        w = data["Weight"].astype(np.float64)
        weighted = np.sum(w * ((p >= 0.4) == truth)) / w.sum()
        assert found[f"Weighted native metrics | wacc ({split_name})"] == pytest.approx(weighted, abs=1e-6)
        assert found[f"Custom metrics | mean_out ({split_name})"] == pytest.approx(np.mean(p), rel=1e-5)
    gap = found["Loss | validation"] - found["Loss | training"]
    assert found["Composite metrics | gap"] == pytest.approx(gap, abs=1e-6)
    assert found["Composite metrics | better"] is (found["Native metrics | acc (testing)"] > found[
        "Weighted native metrics | wacc (validation)"])  # fmt: skip


def test_without_a_test_split_and_without_mplhep(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "mplhep", None)  # import mplhep -> ImportError: plain matplotlib
    backend = "Keras" if _available("keras", "tensorflow") else "Lightning"
    if not _available("lightning", "torch") and backend == "Lightning":
        pytest.skip("no backend installed")
    run_config = run_config_for(tmp_path, backend)
    split = make_split(2, with_test=False)
    model = {"path": BUILDERS[backend](tmp_path, run_config, 2, split), "classes": 2}
    template, values = evaluate({**model, "run_config": run_config, "split": split}, tmp_path / "figs")
    assert "testing" not in template and len(values) == 4  # loss and AUC on training and validation
    names = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert names == sorted(f"{s}{e}" for s in ("outputs_stacked_node0", "outputs_normalised_node0", "roc_node0")
                           for e in (".png", ".pdf"))  # fmt: skip


def _available(*modules: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in modules)
