"""A run-config written the way the original documents its Lightning data stack: its ``LightningDataset`` builds on
``OPTIMA.lightning.inputs.LightningDataset`` (whole batches), its ``DataLoader`` takes those batches as they are, and
its ``DataModule`` subclasses ``OPTIMA.lightning.inputs.DefaultDataModule``. ``optima check`` accepts it and a tiny
fixed-hyperparameter run trains and evaluates through these classes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from engine_helpers import CliOutcome, ConfigWriter

RUN_CONFIG_PART = """
import torch
from OPTIMA.lightning.inputs import DefaultDataModule
from OPTIMA.lightning.inputs import LightningDataset as BatchedTensors

MARKER = {marker!r}

search_space = {{"batch_size": 200, "num_layers": 1, "units": 8, "learning_rate": 0.01, "dropout": 0.0}}


class LightningDataset(BatchedTensors):
    def __init__(self, dataset, model_config):
        weights = dataset["Weight"] if "Weight" in dataset else None
        super().__init__(dataset["Input"], dataset["Target"], weights, batch_size=model_config["batch_size"])
        with open(MARKER, "a") as marker:
            marker.write(f"{{len(self.inputs)}} {{len(self)}}\\n")


class DataLoader(torch.utils.data.DataLoader):
    def __init__(self, dataset, model_config):
        super().__init__(dataset, batch_size=None)


class DataModule(DefaultDataModule):
    pass
"""


@pytest.mark.slow
@pytest.mark.overlap
@pytest.mark.lightning
def test_a_run_config_using_the_documented_lightning_classes_runs(
    write_config: ConfigWriter, optima_run: Callable[..., CliOutcome], tmp_path: Path
) -> None:
    pytest.importorskip("optima_lightning")
    from optima_core.cli import cli

    marker = tmp_path / "datasets.txt"
    config = write_config(
        "Lightning",
        extra=RUN_CONFIG_PART.format(marker=str(marker)),
        perform_main_hyperopt=False,
        crossvalidation_for_fixed_hps=False,
        max_epochs=3,
        produce_inputs_plots=False,
    )
    checked = CliRunner().invoke(cli, ["check", str(config)])
    assert checked.exit_code == 0, checked.output
    assert "DataModule" in checked.output and "run-config" in checked.output

    outcome = optima_run(config)
    assert outcome.exit_code == 0, outcome.describe()
    (models,) = list((tmp_path / "out").glob("*/models"))
    report = json.loads((models / "evaluation.json").read_text())
    assert report["average"]["test"]["roc_auc"]["value"] > 0.8  # trained on the batches of these classes
    # every dataset went through the run-config's LightningDataset: events served in ceil(events / 200) batches
    built = [tuple(map(int, line.split())) for line in marker.read_text().splitlines()]
    assert built and all(batches == -(-events // 200) or events % 200 == 1 for events, batches in built)
    assert max(events for events, _ in built) >= 1000  # the training set (3000 events, 20% val, 20% test)
