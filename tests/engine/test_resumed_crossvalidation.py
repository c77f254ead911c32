"""``--resume`` never cross-validates another trial than the one the optimization selected (issue 13, defect 1).

An HPO interrupted after the cross-validation of the old best trial had finished selects another trial once it is
resumed. The cross-validation found in the stage folder then belongs to other hyperparameters: it must be discarded
and trained anew, not restored. The stale state is made here without a real Ctrl-C: the first run cross-validates
other hyperparameters than the selection (the old best), the resumed run must end with fold models of the selection.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import FOLDS, Backend, CliOutcome, ConfigWriter

#: The learning rate of the "old best" trial, outside the searched range (engine_helpers.SEARCH_SPACE: 4e-3 to 3e-2).
OLD_LEARNING_RATE = 0.0456


def _saved_learning_rate(path: Path) -> float:
    import torch

    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    return float(checkpoint["hyper_parameters"]["model_config"]["learning_rate"])


@pytest.mark.slow
@pytest.mark.lightning
def test_a_resumed_run_discards_the_crossvalidation_of_another_trial(
    lightning: Backend,
    write_config: ConfigWriter,
    optima_run: Callable[..., CliOutcome],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from optima_core.engine import hpo

    real_plan = hpo.selection_fold_plan

    def old_best_plan(*args: Any, **kwargs: Any) -> Any:
        plan = real_plan(*args, **kwargs)
        config = {**plan.model_config, "learning_rate": OLD_LEARNING_RATE}
        return dataclasses.replace(plan, model_config=config, trial="old_best", epoch=1)

    config = write_config(lightning.name, num_samples_main=2, max_epochs=3, use_TPESampler=False)
    with monkeypatch.context() as patch:
        patch.setattr(hpo, "selection_fold_plan", old_best_plan)
        first = optima_run(config)
    assert first.exit_code == 0, first.describe()
    stage = tmp_path / "out" / "main_e2e" / "main_hyperopt"
    old_models = sorted(stage.glob(f"crossvalidation/best_value/model_fold*{lightning.suffix}"))
    assert len(old_models) == FOLDS and {_saved_learning_rate(p) for p in old_models} == {OLD_LEARNING_RATE}

    resumed = optima_run(config, "--resume")
    assert resumed.exit_code == 0, resumed.describe()

    selection = json.loads((stage / "selection.json").read_text())
    for kind in [k for k in ("best-value", "best-fit") if k in selection]:  # beside them: a note on the objective
        selected, best = selection[kind], selection["best-value"]
        if kind == "best-fit" and (selected["trial"], selected["epoch"]) == (best["trial"], best["epoch"]):
            continue  # the best-value models are reused
        folder = stage / "crossvalidation" / kind.replace("-", "_")
        models = sorted(folder.glob(f"model_fold*{lightning.suffix}"))
        assert len(models) == FOLDS, (kind, models)
        assert {_saved_learning_rate(p) for p in models} == {selected["config"]["learning_rate"]}, kind
        evaluation = json.loads((folder / "evaluation.json").read_text())
        assert evaluation["selected"]["trial"] == selected["trial"]
        assert evaluation["selected"]["hyperparameters"]["learning_rate"] == selected["config"]["learning_rate"]
    assert "it is deleted and trained anew" in resumed.output, resumed.output


def test_a_crossvalidation_is_continued_only_for_the_plan_it_was_started_for(tmp_path: Path) -> None:
    from optima_core.engine.crossvalidation import PLAN_FILE, FoldPlan, start_plan

    old = FoldPlan("best_value", {"units": 30, "learning_rate": 0.0039}, 12, False, False, False, trial="a", epoch=12)
    new = dataclasses.replace(old, model_config={"units": 28, "learning_rate": 0.009}, max_epochs=7, trial="b", epoch=7)
    models, experiment = tmp_path / "crossvalidation" / "best_value", tmp_path / "tune" / "crossvalidation_best_value"
    start_plan(old, models, experiment)
    experiment.mkdir(parents=True)
    (models / "model_fold0.ckpt").write_text("old")

    start_plan(old, models, experiment)  # the same plan: an interrupted cross-validation is continued
    assert (models / "model_fold0.ckpt").exists() and experiment.exists()

    start_plan(new, models, experiment)  # another selection: the old models and experiment are gone
    assert not experiment.exists() and sorted(p.name for p in models.iterdir()) == [PLAN_FILE]
    assert json.loads((models / PLAN_FILE).read_text())["trial"] == "b"
