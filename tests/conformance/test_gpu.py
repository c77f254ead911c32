"""The Lightning backend on a GPU, as a trial given one (``gpus_per_trial``) trains: through the core's epoch loop.

Skipped where torch sees no CUDA device, which is every CI machine; on a machine with one, run
``pytest tests/conformance/test_gpu.py``. Each check runs with the built-in MLP and with a ``LitModel`` written
in the run-config from scratch, as the reference documents it. What a GPU changes and is checked here: the model,
its normalisation and the native metrics train on the device; the core's metrics, predictions, checkpoints and
exported models come back to the host; an exported model reloads and predicts on a machine without a GPU (the
evaluation's loader, the ONNX export); a trial resumed from a checkpoint goes on on the device.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conformance_helpers import KITS, N_VAL, REFERENCE_LIT_MODEL, Harness

from optima_core.inputs.dataset import EventData

torch = pytest.importorskip("torch")
pytest.importorskip("lightning")

pytestmark = [
    pytest.mark.lightning,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the GPU checks need one"),
    pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning"),
    pytest.mark.filterwarnings("ignore:The `srun` command is available on your system"),
]

MODELS = {"built-in MLP": "", "run-config LitModel": REFERENCE_LIT_MODEL}
MAX_EPOCHS = 3


@pytest.fixture(params=list(MODELS))
def gpu_run(request: pytest.FixtureRequest, tmp_path: Path, events: dict[str, EventData]) -> tuple[Harness, Path]:
    """The harness and run-config of one of :data:`MODELS`."""
    harness = Harness(KITS["Lightning"], tmp_path, events)
    return harness, harness.config(MODELS[request.param])


def _devices(module: Any) -> set[str]:
    return {tensor.device.type for tensor in [*module.parameters(), *module.buffers()]}


def _trained_on(recorder: Any) -> set[str]:
    """Where the weights were at the checkpoints (taken during the fit: Lightning moves the model back to the CPU
    when a fit ends)."""
    return {tensor.device.type for weights in recorder.weights.values() for tensor in weights.values()}


def test_trains_on_the_gpu_and_reports_every_metric(gpu_run: tuple[Harness, Path]) -> None:
    harness, config = gpu_run
    job = harness.job(config, max_epochs=MAX_EPOCHS, use_gpu=True)
    result, recorder, _ = harness.train(job)

    assert recorder.epochs == list(range(1, MAX_EPOCHS + 1)) and result.epochs == MAX_EPOCHS
    assert _trained_on(recorder) == {"cuda"}, "the model did not train on the GPU"
    for row in recorder.rows:
        for name in ("train_loss", "val_loss", "val_auc", "gap"):
            assert isinstance(row[name], float) and math.isfinite(row[name]), (name, row)
    assert recorder.rows[-1]["val_loss"] < recorder.rows[0]["val_loss"] * 1.05, "no training on the GPU"
    assert recorder.rows[-1]["val_auc"] > 0.7
    if "LitModel" not in config.read_text():  # the built-in MLP computes the native metrics on the device
        assert all(0.0 <= row["val_accuracy"] <= 1.0 for row in recorder.rows)


def test_exported_model_predicts_on_the_cpu_as_on_the_gpu(gpu_run: tuple[Harness, Path], tmp_path: Path) -> None:
    harness, config = gpu_run
    job = harness.job(config, max_epochs=2, use_gpu=True)
    _, recorder, backend = harness.train(job)
    assert _trained_on(recorder) == {"cuda"}
    backend.model.to("cuda")  # where it is when the core predicts for its metrics, at the end of every epoch
    on_gpu = backend.predict("val")
    assert _devices(backend.model) == {"cuda"}, "predict moved the model"
    assert isinstance(on_gpu, np.ndarray) and on_gpu.shape == (N_VAL, 1) and np.isfinite(on_gpu).all()

    exported = backend.export(tmp_path / "model")
    loaded = type(backend).load_model(
        exported, job.run_config, job.hooks, job.input_handler, job.model_config, job.data
    )
    assert _devices(loaded.model) == {"cpu"}
    on_cpu = loaded.predict_events(job.data["val"])
    np.testing.assert_allclose(on_cpu.reshape(-1), on_gpu.reshape(-1), rtol=0, atol=1e-4)

    from optima_lightning.onnx_export import export as export_onnx

    onnxruntime = pytest.importorskip("onnxruntime")
    inputs = np.asarray(job.data["val"]["Input"], dtype=np.float32)
    path = tmp_path / "model.onnx"

    def check(written: Path) -> None:
        session = onnxruntime.InferenceSession(str(written), providers=["CPUExecutionProvider"])
        outputs = session.run(None, {session.get_inputs()[0].name: inputs})[0]
        np.testing.assert_allclose(outputs.reshape(-1), on_gpu.reshape(-1), rtol=0, atol=1e-4)

    export_onnx(backend.model, path, inputs[:8], 17, check)
    assert path.exists()


def test_a_resumed_trial_goes_on_on_the_gpu(gpu_run: tuple[Harness, Path]) -> None:
    harness, config = gpu_run
    _, first, _ = harness.train(harness.job(config, max_epochs=2, use_gpu=True))
    job = harness.job(config, max_epochs=4, use_gpu=True)
    result, resumed, _ = harness.train(job, checkpoint_dir=first.checkpoints[2])

    assert resumed.epochs == [3, 4] and result.epochs == 4
    assert _trained_on(resumed) == {"cuda"}
    assert resumed.steps[4] == 2 * resumed.steps[3] - first.steps[2] > first.steps[2], "the optimizer started afresh"
    assert math.isfinite(resumed.rows[-1]["val_loss"])
