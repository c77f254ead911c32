"""End-to-end tests of ``optima run``'s optimization chain on tiny data (issue 5, "Checked by").

1. The full chain (variable selection, main HPO with TPE + ASHA, PBT, selection, cross-validation, evaluation) on
   both backends: the folder tree, the Optuna study, the results and plots, reloadable models, and ``report.html``
   opened in headless Chromium (every image loads, every link resolves, no console errors, the best trial and the
   cross-validated test AUC shown).
2. Kill-and-resume: ``optima run`` is SIGKILLed during the main HPO and continued with ``--resume``; the experiment
   ends with exactly ``num_samples_main`` trials, finished trials are not re-run; the output-folder guard refuses a
   second run without ``--resume`` and a resume with a changed run-config.
3. A trial whose loss becomes NaN is marked failed, listed in the summary, and the run goes on.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_helpers import FOLDS, VARIABLES, Backend, CliOutcome, ConfigWriter, sample_inputs

pytestmark = pytest.mark.slow

OPTIMA = Path(sys.executable).parent / "optima"


# -- helpers ---------------------------------------------------------------------------------------------------------


def trial_dirs(experiment: Path) -> list[Path]:
    return sorted(path for path in experiment.glob("run_trial_*") if path.is_dir())


def result_rows(trial_dir: Path) -> list[dict[str, Any]]:
    path = trial_dir / "result.json"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written
            break
    return rows


def trial_params(trial_dir: Path) -> dict[str, Any]:
    return dict(json.loads((trial_dir / "params.json").read_text()))


def check_crossvalidation(
    stage: Path, backend: Backend, label: str = "best_value", variables: list[str] = VARIABLES
) -> None:
    """The models of ``label`` exist, reload and predict probabilities; the evaluation averages an AUC."""
    folder = stage / "crossvalidation" / label
    models = sorted(folder.glob(f"model_fold*{backend.suffix}"))
    assert [path.name for path in models] == [f"model_fold{k}{backend.suffix}" for k in range(FOLDS)], sorted(
        p.name for p in folder.iterdir()
    )
    for k in range(FOLDS):
        assert (folder / f"model_fold{k}_history.csv").is_file()
        plots = folder / "plots" / f"model_fold{k}"
        for stem in ("roc_node0", "outputs_stacked_node0", "outputs_normalised_node0"):
            assert (plots / f"{stem}.png").is_file(), sorted(p.name for p in plots.iterdir())

    evaluation = (folder / "evaluation.txt").read_text()
    assert f"Average over {FOLDS} folds" in evaluation, evaluation
    heading = evaluation.index("ROC AUC")
    match = re.search(r"\(validation\): ([0-9.]+) ± ([0-9.]+)", evaluation[heading:])
    assert match, evaluation
    assert 0.8 < float(match.group(1)) <= 1.0, evaluation  # the sample is well separable

    inputs = sample_inputs()[:, [VARIABLES.index(v) for v in variables]]
    for path in models:
        predictions = backend.load(path)(inputs)
        assert predictions.shape == (len(inputs), 1)
        assert np.all(np.isfinite(predictions)) and np.all((predictions >= 0) & (predictions <= 1))
        assert float(np.std(predictions)) > 1e-3, "the reloaded model predicts a constant"


#: Headless Chromium without anything that reaches the network or keeps state between runs.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
#: For every link: the href as written, and whether it resolves (an anchor on the page, or an existing file).
LINKS_JS = """
return Array.from(document.querySelectorAll('a[href]')).map(a => {
  const href = a.getAttribute('href');
  return [href, href.startsWith('#') ? document.getElementById(href.slice(1)) !== null : null, a.href];
});
"""


def check_report_in_browser(output: Path) -> None:
    """Open ``report.html`` in headless Chromium: every image loads, every local link resolves, no console error,
    and the page shows PBT's best-value trial and the cross-validated test AUC of ``evaluation.json``.
    Skips (after every other check of the calling test passed) when Chromium or chromedriver is not installed."""
    import tempfile
    from urllib.parse import unquote, urlparse

    browser, driver_path = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not browser or not driver_path:
        pytest.skip(
            "report.html not checked in a browser: chromium and chromedriver are not installed (Debian: "
            "apt-get install chromium chromium-driver); every other check of this test passed"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (optima-core[test])")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="optima-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        driver.get((output / "report.html").as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]);"
        )
        assert len(images) >= 10, images  # input plots, histories, overviews, selection, ROC/output plots
        assert all(complete and width > 0 for _, complete, width in images), [i for i in images if not i[2]]
        links = driver.execute_script(LINKS_JS)
        assert links, "the page has a table of contents"
        for href, anchor_found, absolute in links:
            if anchor_found is None:
                parsed = urlparse(absolute)
                assert parsed.scheme == "file" and Path(unquote(parsed.path)).exists(), href
            else:
                assert anchor_found, f"link {href} points to no element"
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, errors

        for stage in ("variable_opt_hyperopt", "variable_selection", "main_hyperopt", "PBT"):
            assert driver.find_element(By.ID, f"stage-{stage}").is_displayed(), stage
        pbt = output / "PBT"
        best = json.loads((pbt / "selection.json").read_text())["best-value"]["trial"]
        shown = driver.find_element(By.ID, "best-value-trial")
        assert shown.is_displayed() and shown.text == best and shown.get_attribute("data-stage") == "PBT"
        main_best = json.loads((output / "main_hyperopt" / "selection.json").read_text())["best-value"]["trial"]
        assert driver.find_element(By.ID, "best-value-trial-main_hyperopt").text == main_best
        evaluation = json.loads((pbt / "crossvalidation" / "best_value" / "evaluation.json").read_text())
        auc = evaluation["average"]["test"]["roc_auc"]["value"]
        element = driver.find_element(By.ID, "cv-test-auc")
        assert element.is_displayed() and float(element.get_attribute("data-value")) == pytest.approx(auc)
        assert element.text.startswith(f"{auc:.6g}"), element.text
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# -- 1. the full chain -----------------------------------------------------------------------------------------------


#: The cheapest variable selection that still retrains: one pre-HPO trial, shuffling with one repeat, and each
#: iteration's candidate re-evaluated by retraining the backend's model once per fold (pitfall 13: the original could
#: not reload and retrain its built-in Keras MLP).
TINY_SELECTION = {
    "perform_variable_opt": True,
    "num_samples_variableOpt": 1,
    "variable_optimization_mode": "shuffle",
    "num_repeats": 1,
    "reevaluate_candidate_to_drop": True,
    "num_repeats_for_reevaluation": 1,
    "var_opt_patience": 1,
}


def test_full_chain_selection_main_hpo_pbt_crossvalidation_evaluation_report(
    backend: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome], tmp_path: Path
) -> None:
    import optuna

    config = write_config(
        backend.name,
        **TINY_SELECTION,
        perform_PBT_hyperopt=True,
        num_samples_main=3,
        num_samples_PBT=3,
        perturbation_interval=2,
        burn_in_period=2,
    )
    outcome = optima_run(config)
    assert outcome.exit_code == 0, outcome.describe()

    output = tmp_path / "out" / "varOpt_main_PBT_e2e"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["varOpt_main_PBT_e2e"]
    for name in ("run_config.py", "resolved_config.json", "optima_run.json", "report.html"):
        assert (output / name).is_file(), name
    assert (output / "run_config.py").read_text() == config.read_text()
    assert json.loads((output / "resolved_config.json").read_text())["model_type"] == backend.name
    assert {path.stem for path in (output / "inputs").glob("*.png")} == set(VARIABLES)

    # variable selection: its pre-HPO, the iterations and the variables it keeps
    record = json.loads((output / "variable_selection" / "variable_selection.json").read_text())
    selected_vars = (output / "variable_selection" / "selected_variables.txt").read_text().split()
    assert selected_vars == record["selected"] and set(selected_vars) <= set(VARIABLES), selected_vars
    assert record["iterations"] and (output / "variable_opt_hyperopt" / "selection.json").is_file()
    assert all(iteration["reevaluated"] for iteration in record["iterations"]), record["iterations"]
    assert len(record["iterations"][0]["tried"]) == len(VARIABLES)
    assert set(record["stability"]) <= set(VARIABLES) and record["stability"], record["stability"]
    retrained = sorted(
        (output / "variable_selection" / "retrain").glob(f"*_reeval/*/repeat0/model_fold*{backend.suffix}")
    )
    assert len(retrained) >= FOLDS, retrained  # the re-evaluation's models, of the backend's own format
    assert {"eta", "mass"} <= set(selected_vars), selected_vars  # the two strongest separators survive
    phases = json.loads((output / "optima_run.json").read_text())["phases"]
    eliminations = [p for p in phases if (p["phase"], p["stage"]) == ("variable selection", "variable_selection")]
    assert len(eliminations) == 1 and eliminations[0]["seconds"] > 0, phases  # the elimination's time is recorded

    # main HPO: 3 Optuna trials, also in the SQLite study
    main = output / "main_hyperopt"
    study = optuna.load_study(study_name="main_hyperopt", storage=f"sqlite:///{main / 'optuna_study.db'}")
    assert len(study.trials) == 3, [t.state for t in study.trials]
    states = [t.state for t in study.trials]  # trials ASHA stopped are recorded as pruned
    assert set(states) <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}, states
    assert optuna.trial.TrialState.COMPLETE in states, states
    assert len(trial_dirs(main / "tune" / "trials")) == 3
    for name in ("selection.txt", "selection.json", "metric_histories.png", "search_overview.png"):
        assert (main / name).is_file(), name
    selected = json.loads((main / "selection.json").read_text())["best-value"]
    assert 1 <= selected["epoch"] <= 8 and np.isfinite(selected["value"])
    assert set(selected["config"]) == {"batch_size", "num_layers", "units", "learning_rate", "dropout"}
    assert f"trial {selected['trial']}" in (main / "selection.txt").read_text()
    check_crossvalidation(main, backend, variables=selected_vars)

    # PBT: a population of 3, its non-mutatable hyperparameters from the main stage
    pbt = output / "PBT"
    assert len(trial_dirs(pbt / "tune" / "trials")) == 3
    for name in ("selection.txt", "selection.json"):
        assert (pbt / name).is_file(), name
    pbt_selected = json.loads((pbt / "selection.json").read_text())["best-value"]
    assert np.isfinite(pbt_selected["value"])
    for key in ("batch_size", "num_layers", "units"):
        assert pbt_selected["config"][key] == selected["config"][key]
    check_crossvalidation(pbt, backend, variables=selected_vars)
    check_report_in_browser(output)


# -- 2. kill and resume ----------------------------------------------------------------------------------------------

RESUME_SAMPLES = 8
RESUME_EPOCHS = 30


def descendants(pid: int) -> set[int]:
    """PIDs of every living descendant of ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def processes_mentioning(text: str) -> set[int]:
    """PIDs whose command line contains ``text``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.add(int(entry.name))
    return found


def kill_run(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the ``optima run`` subprocess, its process group and every Ray process it started; nothing else."""
    temp_dir = f"/tmp/optima-ray-{process.pid}"  # optima_core.engine.ray_session.short_temp_dir of the child
    spawned = descendants(process.pid)
    os.killpg(process.pid, signal.SIGKILL)  # its own session / group (start_new_session=True)
    for pid in spawned | processes_mentioning(temp_dir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while (left := processes_mentioning(temp_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"Ray processes of the killed run survived: {left}"
    shutil.rmtree(temp_dir, ignore_errors=True)


def finished_trials(experiment: Path) -> dict[str, int]:
    """Trial folder name -> reported epochs, for trials that reported all epochs."""
    done = {}
    for trial in trial_dirs(experiment):
        rows = result_rows(trial)
        if len(rows) >= RESUME_EPOCHS:
            done[trial.name] = len(rows)
    return done


@pytest.mark.lightning
def test_killed_run_resumes_with_the_requested_number_of_trials(
    lightning: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome], tmp_path: Path
) -> None:
    settings: dict[str, Any] = {
        "num_samples_main": RESUME_SAMPLES,
        "max_epochs": RESUME_EPOCHS,
        "use_ASHAScheduler": False,  # every trial runs all epochs: "finished" is visible from its result.json
        "early_stopping_patience": 100,
    }
    config = write_config(lightning.name, **settings)
    experiment = tmp_path / "out" / "main_e2e" / "main_hyperopt" / "tune" / "trials"
    log = (tmp_path / "killed.log").open("wb")
    process = subprocess.Popen(
        [str(OPTIMA), "run", str(config), "--cpus", "2"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while len(finished := finished_trials(experiment)) < 2:
            assert process.poll() is None, (
                "optima run ended before it could be killed:\n" + (tmp_path / "killed.log").read_text()
            )
            assert time.monotonic() < deadline, "no two finished trials within 300 s"
            time.sleep(0.2)
        # Tune records finished trials in its experiment state a moment later (at most a second with OPTIMA)
        time.sleep(1.5)
    finally:
        kill_run(process)
        log.close()
    assert len(finished) < RESUME_SAMPLES, f"nothing left to resume: {sorted(finished)}"
    before = {name: (experiment / name / "result.json").read_bytes() for name in finished}
    started_before = {trial.name for trial in trial_dirs(experiment)}

    # the guard: the folder holds a run, so only --resume may continue it
    again = optima_run(config)
    assert again.exit_code == 2, again.describe()
    assert "--resume" in again.output, again.output

    resumed = optima_run(config, "--resume")
    assert resumed.exit_code == 0, resumed.describe() + "\n--- killed run ---\n" + (tmp_path / "killed.log").read_text()

    trials = trial_dirs(experiment)
    assert len(trials) == RESUME_SAMPLES, [t.name for t in trials]
    assert started_before <= {t.name for t in trials}, "trials of the killed run are missing"
    for trial in trials:
        # a trial interrupted between two checkpoints repeats the epochs after its last one
        epochs = [int(row["epoch"]) for row in result_rows(trial)]
        assert sorted(set(epochs)) == list(range(1, RESUME_EPOCHS + 1)) and epochs[-1] == RESUME_EPOCHS, (
            trial.name,
            epochs,
        )
    for name, content in before.items():
        assert (experiment / name / "result.json").read_bytes() == content, f"finished trial {name} was run again"
    ids = [result_rows(trial)[0]["trial_id"] for trial in trials]
    assert len(set(ids)) == RESUME_SAMPLES, ids

    from ray.tune import ExperimentAnalysis

    analysis = ExperimentAnalysis(str(experiment))
    assert len(analysis.trials) == RESUME_SAMPLES
    assert all(trial.status == "TERMINATED" for trial in analysis.trials), [t.status for t in analysis.trials]

    import optuna

    stage = tmp_path / "out" / "main_e2e" / "main_hyperopt"
    study = optuna.load_study(study_name="main_hyperopt", storage=f"sqlite:///{stage / 'optuna_study.db'}")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == RESUME_SAMPLES, [t.state for t in study.trials]
    selected = json.loads((stage / "selection.json").read_text())["best-value"]
    assert selected["trial"] in ids
    assert sorted(stage.glob(f"crossvalidation/best_value/model_fold*{lightning.suffix}"))

    # a changed run-config is not resumed into the old folder
    edited = config.read_text().replace(f"max_epochs = {RESUME_EPOCHS}", "max_epochs = 7")
    assert edited != config.read_text()
    config.write_text(edited)
    changed = optima_run(config, "--resume")
    assert changed.exit_code == 2, changed.describe()
    assert "different run-config" in changed.output, changed.output


# -- 3. a NaN-producing trial ----------------------------------------------------------------------------------------

POISONED_MODEL = """
import torch
from optima_lightning.mlp import LitModel as _BuiltinLitModel


class LitModel(_BuiltinLitModel):
    # The built-in MLP, whose outputs (and so every loss) become NaN when the hyperparameter 'poison' is True.

    def logits(self, inputs):
        logits = super().logits(inputs)
        if self.hparams["model_config"].get("poison"):
            return logits * float("nan")
        return logits


search_space = {
    "batch_size": 256,
    "num_layers": 1,
    "units": 8,
    "learning_rate": 5e-3,
    "poison": {"type": "choice", "values": [False, True]},
}
"""


@pytest.mark.lightning
def test_a_nan_trial_is_marked_failed_and_the_run_goes_on(
    lightning: Backend, write_config: ConfigWriter, optima_run: Callable[..., CliOutcome], tmp_path: Path
) -> None:
    config = write_config(
        lightning.name, extra=POISONED_MODEL, num_samples_main=4, max_epochs=3, use_TPESampler=False, random_seed=7
    )
    outcome = optima_run(config)
    assert outcome.exit_code == 0, outcome.describe()

    stage = tmp_path / "out" / "main_e2e" / "main_hyperopt"
    trials = trial_dirs(stage / "tune" / "trials")
    assert len(trials) == 4
    poison = {result_rows(t)[0]["trial_id"]: bool(trial_params(t)["poison"]) for t in trials if result_rows(t)}
    assert len(poison) == 4, "every trial reports at least one epoch"
    poisoned = {trial for trial, value in poison.items() if value}
    assert poisoned and len(poisoned) < 4, f"the seed must give both kinds of trial: {poison}"

    text = (stage / "selection.txt").read_text()
    failed_lines = [line for line in text.splitlines() if line.startswith("failed trials:")]
    assert len(failed_lines) == 1, text
    assert set(failed_lines[0].removeprefix("failed trials:").replace(",", " ").split()) == poisoned, text
    assert "FAILED" in outcome.output
    import optuna  # the study records the diverged (poisoned) trials as failed, the others as complete

    study = optuna.load_study(study_name="main_hyperopt", storage=f"sqlite:///{stage / 'optuna_study.db'}")
    states = [trial.state.name for trial in study.trials]
    assert states.count("FAIL") == len(poisoned) and states.count("COMPLETE") == 4 - len(poisoned), states

    selected = json.loads((stage / "selection.json").read_text())["best-value"]
    assert selected["trial"] not in poisoned
    assert selected["config"]["poison"] is False and np.isfinite(selected["value"])
    assert len(sorted(stage.glob(f"crossvalidation/best_value/model_fold*{lightning.suffix}"))) == FOLDS


# -- the history of a resumed trial ---------------------------------------------------------------------------------


def test_histories_keep_the_last_report_of_an_epoch_reported_twice() -> None:
    import pandas as pd

    from optima_core.engine.hpo import histories

    class FakeResult:  # what a ResultGrid yields for a trial resumed from its epoch-1 checkpoint after epoch 2
        metrics = {"trial_id": "abc"}
        path = "/nowhere/run_trial_abc"
        error = None
        config = {"units": 8, "optima_seed": 1}
        metrics_dataframe = pd.DataFrame({"epoch": [1, 2, 2, 3], "val_loss": [0.5, 0.9, 0.4, 0.3]})

    (history,), failed = histories([FakeResult()])
    assert failed == [] and history.trial_id == "abc" and history.config == {"units": 8}
    assert history.frame["epoch"].tolist() == [1, 2, 3]
    assert history.frame["val_loss"].tolist() == [0.5, 0.4, 0.3]
