"""A loaded model predicts through the run-config's data pipeline, as the trained model did (issue 13, defect 4).

The evaluation and the variable selection predict with the exported fold models. The reference hands user model
code the batches its data pipeline makes: ``predict_step`` of a run-config ``LitModel`` gets ``(inputs, targets[,
weights])``, a Keras model the inputs of the batches of ``build_tensorflow_dataset``. Both used to get the bare
input matrix: a ``LitModel`` indexing ``batch[0]`` predicted for the first event only, a Keras model fed by a
``build_tensorflow_dataset`` that reshapes the inputs got the wrong shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conformance_helpers import N_VAL, REFERENCE_LIT_MODEL, VARIABLES, BackendKit, Harness

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning"),
    pytest.mark.filterwarnings("ignore:`shuffle=True` was passed:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec.*is deprecated"),
    pytest.mark.filterwarnings("ignore:The `srun` command is available on your system"),
]

#: The model reads the first three input columns only, as the run-config's dataset hands them over.
KERAS_INPUT_SUBSET = """
def build_tensorflow_dataset(ray_dataset, input_handler, run_config, model_config):
    import numpy as np
    import tensorflow as tf

    inputs = np.asarray(ray_dataset["Input"], np.float32)[:, :3]
    targets = np.asarray(ray_dataset["Target"], np.float32).reshape(-1, 1)
    weights = np.asarray(ray_dataset["Weight"], np.float32)
    return tf.data.Dataset.from_tensor_slices((inputs, targets, weights)).batch(model_config["batch_size"])


def build_model(model_config, input_handler, train_data):
    import keras

    inputs = keras.Input(shape=(3,))
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.BatchNormalization()(inputs))
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
"""

RUN_CONFIG_MODELS = {
    "Lightning": "native_metrics = []\nweighted_native_metrics = []\n" + REFERENCE_LIT_MODEL,
    "Keras": KERAS_INPUT_SUBSET,
}


def trained_and_loaded(harness: Harness, kit: BackendKit, tmp_path: Path) -> tuple[Any, Any, Any]:
    """(job, backend after one epoch, its exported model loaded as the evaluation loads it)."""
    job = harness.job(harness.config(RUN_CONFIG_MODELS[kit.name]), max_epochs=1)
    _, _, backend = harness.train(job)
    path = backend.export(tmp_path / "exported" / "model")
    loaded = type(backend).load_model(
        path, job.run_config, job.hooks, job.input_handler, dict(job.model_config), dict(job.data)
    )
    return job, backend, loaded


def test_loaded_run_config_model_predicts_like_the_trained_one(
    harness: Harness, kit: BackendKit, tmp_path: Path
) -> None:
    job, backend, loaded = trained_and_loaded(harness, kit, tmp_path)
    val = job.data["val"]
    expected = backend.predict("val")
    assert expected.shape == (N_VAL, 1)
    np.testing.assert_allclose(loaded.predict_events(val), expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(loaded.predict(np.asarray(val["Input"])), expected, rtol=0, atol=1e-6)


def test_predict_step_gets_the_events_targets_and_weights(harness: Harness, kit: BackendKit, tmp_path: Path) -> None:
    if kit.name != "Lightning":
        pytest.skip("predict_step is Lightning's")
    job, _, loaded = trained_and_loaded(harness, kit, tmp_path)
    seen: list[Any] = []
    predict_step = loaded.model.predict_step

    def recording(batch: Any, batch_idx: int, dataloader_idx: int = 0) -> Any:
        seen.append(batch)
        return predict_step(batch, batch_idx)

    loaded.model.predict_step = recording
    val = job.data["val"]
    loaded.predict_events(val)
    assert seen and all(isinstance(batch, tuple) and len(batch) == 3 for batch in seen)
    inputs, targets, weights = (np.concatenate([np.asarray(batch[i]) for batch in seen]) for i in range(3))
    assert inputs.shape == (N_VAL, len(VARIABLES))
    np.testing.assert_array_equal(targets.reshape(-1), np.asarray(val["Target"], np.float32).reshape(-1))
    np.testing.assert_allclose(weights, np.asarray(val["Weight"]), rtol=1e-6)
