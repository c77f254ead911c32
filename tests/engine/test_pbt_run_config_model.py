"""Population Based Training of a model from the run-config: what ``optima check`` accepts runs, the rest is refused.

A run-config ``build_model`` replaces the built-in Keras MLP, so the built-in mutation defaults no longer apply: only
entries marked ``'supports_mutation': True`` are mutated. Without one, the run must be refused before Ray starts
(it used to pass ``optima check`` and fail at the PBT stage, after the whole main optimization).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import Backend, CliOutcome, ConfigWriter

pytestmark = pytest.mark.slow

#: A model written from the reference: ``build_model(model_config, *, input_handler, train_data)``, uncompiled.
BUILD_MODEL = """
def build_model(model_config, input_handler, train_data):
    import keras

    inputs = keras.Input(shape=(len(input_handler.get_vars()),))
    scaled = keras.layers.BatchNormalization()(inputs)
    hidden = keras.layers.Dense(8, activation="relu")(scaled)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
"""


def _space(supports_mutation: bool) -> str:
    marker = ", 'supports_mutation': True" if supports_mutation else ""
    return (
        "search_space = {'batch_size': 256, "
        f"'learning_rate': {{'type': 'range', 'bounds': [1e-3, 1e-2], 'sampling': 'log'{marker}}}}}\n"
    )


@pytest.fixture
def keras_backend() -> Backend:
    from engine_helpers import BACKENDS

    kit = BACKENDS["Keras"]
    for module in kit.frameworks:
        pytest.importorskip(module)
    return kit


def test_pbt_of_a_run_config_model(
    keras_backend: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome], tmp_path: Path
) -> None:
    settings = {
        "perform_main_hyperopt": False,
        "perform_PBT_hyperopt": True,
        "num_samples_PBT": 2,
        "max_epochs": 4,
        "perturbation_interval": 2,
        "burn_in_period": 2,
    }
    refused = write_config("Keras", name="refused.py", extra=_space(False) + BUILD_MODEL, **settings)
    outcome = optima_run(refused)
    assert outcome.exit_code == 2, outcome.describe()
    assert "perform_PBT_hyperopt = True: expected at least one searched hyperparameter" in outcome.output
    assert "the run-config's build_model replaces the built-in 'Keras' model" in outcome.output
    assert not (tmp_path / "out").exists()

    accepted = write_config("Keras", extra=_space(True) + BUILD_MODEL, **settings)
    outcome = optima_run(accepted)
    assert outcome.exit_code == 0, outcome.describe()
    assert "mutating learning_rate" in outcome.output
    (output,) = (tmp_path / "out").iterdir()
    assert (output / "PBT" / "selection.json").is_file()
