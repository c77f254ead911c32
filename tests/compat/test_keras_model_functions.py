"""``OPTIMA.keras.model``: the built-in Keras functions called the way a run-config written for the original calls
them (``seed=``, and compile/update with only the model and its config), training a tiny model."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest


@pytest.mark.slow
@pytest.mark.keras
def test_build_compile_update_with_the_original_calls() -> None:
    pytest.importorskip("tensorflow")
    pytest.importorskip("optima_keras")
    import tensorflow as tf
    from OPTIMA.builtin.inputs import InputHandler
    from OPTIMA.keras.model import build_model, compile_model, update_model

    rng = np.random.default_rng(0)
    target = (rng.random(512) < 0.5).astype(np.float32)[:, None]
    inputs = (rng.normal(size=(512, 3)) + 1.5 * target).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices((inputs, target)).batch(64)
    handler = InputHandler(SimpleNamespace(input_vars=["a", "b", "c"], input_scaling=None))
    config = {"num_layers": 1, "units": 8, "dropout": 0.1, "learning_rate": 0.01}

    first = build_model(config, handler, data, seed=3)
    second = build_model(config, input_handler=handler, train_data=data, seed=3)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the seed makes the initialisation reproducible

    model = compile_model(first, config)  # everything after model_config defaults, as in the original
    history = model.fit(data, epochs=3, verbose=0, shuffle=False)
    assert history.history["loss"][-1] < history.history["loss"][0]

    model = update_model(model, {**config, "dropout": 0.3})
    rates = [layer.rate for layer in model.layers if "dropout" in layer.name]
    assert rates == [0.3]
    model = compile_model(model, {**config, "learning_rate": 0.002}, first_compile=False)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.002)
