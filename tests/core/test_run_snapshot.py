"""Trials run the run-config as the run started it (issue 13, defect 10).

A trial worker rebuilds the run-config from the :class:`RunReference` the driver built when the run started:
editing the file afterwards must not reach it (the record in the output folder describes the original), and
values changed from Python on the driver's run-config must.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

from optima_core.config.loader import RunConfig, load_run_config
from optima_core.engine.output import MANIFEST, holding_output_folder, prepare_output_folder
from optima_core.engine.trial import TrialSettings, build_job
from optima_core.metrics import WeightedAUC
from optima_core.training.job import RunReference

ORIGINAL = """
from optima_core.metrics import WeightedAUC
max_epochs = 5
search_space = {"units": 8, "learning_rate": 0.01}
custom_metrics = [("auc", WeightedAUC())]
output_name = "snapshot"
use_exact_name = True
MARKER = "original"
"""

EDITED = ORIGINAL.replace("max_epochs = 5", "max_epochs = 99").replace('"original"', '"edited"')


def write_config(tmp_path: Path, text: str = ORIGINAL) -> Path:
    path = tmp_path / "run_config.py"
    path.write_text(textwrap.dedent(text) + f"output_path = {str(tmp_path / 'out')!r}\n")
    return path


def trial_run_config(reference: RunReference, tmp_path: Path) -> RunConfig:
    """The run-config a trial works with, built from ``reference`` as the Tune trainable builds it."""
    settings = TrialSettings(reference=reference, input_vars=("pt", "eta"), max_epochs=5)
    job, _ = build_job({}, settings, {}, tmp_path)
    return job.run_config


def test_an_edit_of_the_file_after_the_start_does_not_reach_the_trials(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    reference = RunReference.of(load_run_config(path))
    path.write_text(path.read_text().replace("max_epochs = 5", "max_epochs = 99").replace('"original"', '"edited"'))

    run_config = trial_run_config(reference, tmp_path)

    assert run_config.max_epochs == 5
    assert run_config.MARKER == "original"  # the module's own names come from the snapshot as well
    path.unlink()  # and the file is not needed at all
    assert trial_run_config(reference, tmp_path).max_epochs == 5


def test_values_changed_from_python_reach_the_trials(tmp_path: Path) -> None:
    run_config = load_run_config(write_config(tmp_path))
    run_config.max_epochs = 3
    run_config.search_space["units"] = 16  # changed in place
    replaced = [("auc_again", WeightedAUC())]
    run_config.custom_metrics = replaced  # an object set from Python travels as it is

    trial = trial_run_config(RunReference.of(run_config), tmp_path)

    assert trial.max_epochs == 3
    assert trial.search_space == {"units": 16, "learning_rate": 0.01}
    assert [name for name, _ in trial.custom_metrics] == ["auc_again"]
    assert run_config.sources["max_epochs"] == "set in Python"


def test_a_reference_loads_in_a_fresh_process_without_the_file(tmp_path: Path) -> None:
    """Objects defined by the run-config itself are rebuilt from its text, not shipped (they would not unpickle)."""
    extra = """
    class Halving:
        def __call__(self, y_true, y_pred, sample_weight=None):
            return 0.5
    custom_metrics = [("half", Halving())]
    """
    path = write_config(tmp_path, ORIGINAL + textwrap.dedent(extra))
    reference_file = tmp_path / "reference.pkl"
    reference_file.write_bytes(pickle.dumps(RunReference.of(load_run_config(path))))
    path.unlink()
    script = f"""
import pickle
from optima_core.training.job import load_reference
run_config, _ = load_reference(pickle.load(open({str(reference_file)!r}, "rb")))
print(run_config.max_epochs, run_config.custom_metrics[0][0], type(run_config.custom_metrics[0][1]).__name__)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["5", "half", "Halving"]


def test_the_output_folder_records_the_text_the_run_executed(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    original = path.read_bytes()
    run_config = load_run_config(path)
    write_config(tmp_path, EDITED)  # edited between loading and preparing the folder (inputs are read meanwhile)

    with holding_output_folder(prepare_output_folder(run_config, resume=False)) as folder:
        assert (folder / "run_config.py").read_bytes() == original
        manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["config_sha256"] == hashlib.sha256(original).hexdigest()
