"""The selection stage on one shared pre-HPO: a third-party evaluator by name, the custom hook, shuffle, output.

One pre-HPO (2 trials + 3-fold cross-validation of the small Lightning MLP, ``conftest.py``) is shared; every test then
runs only the selection on its fold models (no retraining: ``reevaluate_candidate_to_drop = False``).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from vs_helpers import INFORMATIVE, NOISE, VARIABLES, make_context, write_run_config

pytestmark = [pytest.mark.slow, pytest.mark.lightning]

NO_RETRAIN = "reevaluate_candidate_to_drop = False\n"


def select(tmp_path: Path, pre_hpo: Any, mode: str, extra: str = "") -> tuple[Any, Any]:
    from optima_core.variable_selection import run_variable_selection
    from optima_core.variable_selection.stage import apply_selection

    context = make_context(write_run_config(tmp_path, mode, extra))
    result = run_variable_selection(context, pre_hpo)
    apply_selection(context, result.selected)
    return result, context


ORACLE_PLUGIN = """
import numpy as np
from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import EvaluatorDescriptor

CALLS = []


class Oracle:
    '''Knows the truth: a set missing an informative variable is much worse, noise drops are slightly better.'''

    name = phase = "oracle"

    def __init__(self, session):
        self.session = session

    def num_repeats(self):
        return 1

    def on_rejected(self):
        return False

    def evaluate(self, variable_sets, num_repeats, iteration):
        CALLS.append(dict(variable_sets))
        values = {}
        for label, variables in variable_sets.items():
            missing = sum(v not in variables for v in INFORMATIVE)
            values[label] = [0.3 + 0.1 * missing - 0.001 * (10 - len(variables)) + 0.0001 * f for f in range(3)]
        return values


class SwitchingOracle(Oracle):
    '''Like hybrid: switches phase once, at the first rejection.'''

    switched = False

    @property
    def phase(self):
        return "second" if self.switched else "first"

    def on_rejected(self):
        if self.switched:
            return False
        self.switched = True
        return True


@hookimpl
def optima_register_variable_importance_evaluators():
    return [
        EvaluatorDescriptor("oracle", "oracle_evaluator:Oracle", "test evaluator"),
        EvaluatorDescriptor("switching", "oracle_evaluator:SwitchingOracle", "test evaluator with phases"),
    ]
"""


def test_third_party_evaluator_is_used_when_named(tmp_path: Path, pre_hpo: Any, fake_site: Any) -> None:
    fake_site.add_distribution(
        "optima-oracle",
        {"oracle": "oracle_evaluator"},
        {"oracle_evaluator": f"INFORMATIVE = {INFORMATIVE!r}\n" + textwrap.dedent(ORACLE_PLUGIN)},
    )
    result, context = select(tmp_path, pre_hpo, "oracle", NO_RETRAIN)
    import oracle_evaluator

    assert oracle_evaluator.CALLS, "the named third-party evaluator was not called"
    assert len(oracle_evaluator.CALLS[0]) == len(VARIABLES)  # every leave-one-out set of the variables
    assert result.selected == INFORMATIVE
    assert set(result.dropped) == set(NOISE)
    assert context.input_handler.get_vars() == INFORMATIVE
    fold = context.inputs(True)[0]
    assert fold["val"].variables == INFORMATIVE and fold["val"]["Input"].shape[1] == 5

    folder = context.output / "variable_selection"
    record = json.loads((folder / "variable_selection.json").read_text())
    assert record["selected"] == INFORMATIVE and record["dropped"] == result.dropped
    first = record["iterations"][0]
    assert len(first["tried"]) == len(VARIABLES) and {"value", "uncertainty"} <= set(first["tried"]["noise1"])
    assert [it["accepted"] for it in record["iterations"]][-1] is False
    table = (folder / "variable_selection.txt").read_text()
    assert "ACCEPTED" in table and "rejected" in table and "±" in table
    assert (folder / "selected_variables.txt").read_text().split() == INFORMATIVE
    assert (folder / "variable_selection.png").stat().st_size > 0 and (folder / "variable_selection.pdf").exists()


def test_phase_switch_reverts_to_the_best_set(
    tmp_path: Path, pre_hpo: Any, fake_site: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_site.add_distribution(
        "optima-oracle",
        {"oracle": "oracle_evaluator"},
        {"oracle_evaluator": f"INFORMATIVE = {INFORMATIVE!r}\n" + textwrap.dedent(ORACLE_PLUGIN)},
    )
    result, _ = select(tmp_path, pre_hpo, "switching", NO_RETRAIN + "var_opt_patience = 2\n")
    out = capsys.readouterr().out
    assert "switching to 'second'; reverted to the best set (5 variables)" in out
    phases = [it.phase for it in result.iterations]
    first_rejection = next(i for i, it in enumerate(result.iterations) if not it.accepted)
    assert phases[: first_rejection + 1] == ["first"] * (first_rejection + 1)
    assert phases[first_rejection + 1 :] == ["second", "second"]  # patience 2 after the switch
    # after the revert the second phase starts again from the 5 informative variables
    assert sorted(result.iterations[first_rejection + 1].remaining_before) == sorted(INFORMATIVE)
    assert result.selected == INFORMATIVE


CUSTOM_HOOK = """
SEEN = []


def evaluate_variable_importance(run_config, model_config, models_with_inputs, variable_sets, metric, num_repeats,
                                 input_handler, output_dir, cpus, return_models_with_inputs):
    SEEN.append([list(entry[1]) for entry in models_with_inputs])
    assert metric == "loss" and len(models_with_inputs) == 3
    assert all(entry[2]["Input"].shape[1] == len(entry[1]) for entry in models_with_inputs)
    informative = {informative!r}
    values = {{label: [0.3 + 0.1 * sum(v not in s for v in informative) - 0.001 * (10 - len(s))] * 3
              for label, s in variable_sets.items()}}
    if not return_models_with_inputs:
        return values
    models = {{label: [(path, list(s), data) for path, _, data in models_with_inputs]
              for label, s in variable_sets.items()}}
    return values, models
"""


def test_custom_hook_and_returned_models(tmp_path: Path, pre_hpo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    extra = NO_RETRAIN + textwrap.dedent(CUSTOM_HOOK.format(informative=INFORMATIVE))
    result, context = select(tmp_path, pre_hpo, "custom", extra)
    assert result.selected == INFORMATIVE
    seen = context.run_config.module.SEEN
    assert seen[0] == [VARIABLES] * 3
    # the models returned for the accepted set of iteration 1 are the ones handed over in iteration 2
    first_drop = result.iterations[0].dropped
    assert seen[1] == [[v for v in VARIABLES if v not in first_drop]] * 3
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[variable selection] iter")]
    assert len(lines) == len(result.iterations)


def test_shuffle_on_fixed_models_finds_the_noise(tmp_path: Path, pre_hpo: Any) -> None:
    result, _ = select(tmp_path, pre_hpo, "shuffle", NO_RETRAIN)
    assert set(INFORMATIVE) <= set(result.selected), result.dropped
    assert len(set(NOISE) & set(result.dropped)) >= len(NOISE) - 1, result.selected


def test_shuffle_selection_is_reproducible(tmp_path: Path, pre_hpo: Any) -> None:
    """Seeded shuffles: the same run-config gives the same metric values (a resumed run replays its decisions)."""
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first, _ = select(tmp_path / "first", pre_hpo, "shuffle", NO_RETRAIN)
    second, _ = select(tmp_path / "second", pre_hpo, "shuffle", NO_RETRAIN)

    def values(result: Any) -> list[dict[str, float]]:
        return [{label: est.value for label, (_, est) in it.candidates.items()} for it in result.iterations]

    assert values(first) == values(second)
    assert first.selected == second.selected


def refuse_models_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make loading a model in the test process (the driver) fail; Ray's workers are other processes."""
    import optima_core.engine.models

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the driver loaded a model: scoring belongs in the Ray workers")

    monkeypatch.setattr(optima_core.engine.models, "load_model", refuse)


def scorer_processes() -> list[str]:
    """Running (not zombie) processes of the scoring actors on this machine, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if cmdline.startswith(b"ray::_Scorer") and state != "Z":
            found.append(entry.name)
    return found


def test_shuffle_scores_in_the_workers_not_in_the_driver(
    tmp_path: Path, pre_hpo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading the fold models in the driver imported the framework there (torch and Lightning: about 330 MB)."""
    from optima_core.engine.ray_session import ray_session

    refuse_models_in_this_process(monkeypatch)
    context = make_context(write_run_config(tmp_path, "shuffle", NO_RETRAIN))
    with ray_session(context.plan):
        result, _ = select(tmp_path, pre_hpo, "shuffle", NO_RETRAIN)
        # the scoring actors are gone when the selection returns (not only asked to end): the next stage's trials
        # must not share the machine with them
        assert not scorer_processes()
    assert set(INFORMATIVE) <= set(result.selected), result.dropped
    assert len(set(NOISE) & set(result.dropped)) >= len(NOISE) - 1, result.selected


def test_retrain_iteration_of_a_resumed_run_keeps_its_finished_models(
    tmp_path: Path, pre_hpo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also: retrained models are scored by their trials, and a model without its score (a run interrupted between
    export and score) is scored in a worker; the driver loads none of them."""
    import numpy as np

    from optima_core.engine.ray_session import ray_session
    from optima_core.variable_selection.retrain import RetrainEvaluator
    from optima_core.variable_selection.scoring import score_file
    from optima_core.variable_selection.stage import selection_session

    refuse_models_in_this_process(monkeypatch)

    context = make_context(write_run_config(tmp_path, "retrain", NO_RETRAIN))
    session, _ = selection_session(context, pre_hpo)
    candidate = {"without_noise1": [v for v in VARIABLES if v != NOISE[0]]}
    with ray_session(context.plan):
        first = RetrainEvaluator(session).evaluate(candidate, 1, "iteration1")
        models = sorted(
            (session.folder / "retrain" / "iteration1").glob(
                f"*/repeat0/model_fold*{context.manager.descriptor('backend', 'Lightning').load().model_suffix}"
            )
        )
        assert len(models) == len(session.folds)
        written = {path: path.stat().st_mtime_ns for path in models}
        assert all(score_file(path).is_file() for path in models)
        score_file(models[0]).unlink()

        context.resume = True  # as with `optima run CONFIG --resume`: a new process, a new selection session
        resumed, _ = selection_session(context, pre_hpo)
        again = RetrainEvaluator(resumed).evaluate(candidate, 1, "iteration1")
        assert {path: path.stat().st_mtime_ns for path in models} == written, "finished models were trained again"
        np.testing.assert_array_equal(first.values["without_noise1"], again.values["without_noise1"])

        # The re-evaluation of a chosen set with 2 repeats: repeat 0 is the training already done (same seeds,
        # data and settings), only repeat 1 is trained.
        reevaluated = RetrainEvaluator(resumed).evaluate(candidate, 2, "iteration1_reeval")
    reeval_folder = session.folder / "retrain" / "iteration1_reeval" / "without_noise1"
    suffix = context.manager.descriptor("backend", "Lightning").load().model_suffix
    assert not (reeval_folder / "repeat0").exists()
    assert len(list((reeval_folder / "repeat1").glob(f"model_fold*{suffix}"))) == len(session.folds)
    assert [entry.path for entry in reevaluated.models["without_noise1"]] == models  # the kept models: repeat 0
    values = reevaluated.values["without_noise1"]
    np.testing.assert_array_equal(values[:, 0], first.values["without_noise1"][:, 0])
    assert np.isfinite(values).all() and not np.array_equal(values[:, 0], values[:, 1])


def test_retrained_models_bring_the_next_shuffle_iteration_with_them(
    tmp_path: Path, pre_hpo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shuffle iteration after a re-evaluation by retraining started new scoring actors (about 5-8 s each, to
    import torch and Lightning again); the re-evaluation's trials now make those evaluations of the models they
    trained. The values must be exactly the ones the scoring actors compute."""
    import numpy as np

    import optima_core.variable_selection.shuffle as shuffle_module
    from optima_core.engine.ray_session import ray_session
    from optima_core.variable_selection.retrain import RetrainEvaluator
    from optima_core.variable_selection.scoring import score_file
    from optima_core.variable_selection.shuffle import ShuffleEvaluator
    from optima_core.variable_selection.stage import selection_session

    refuse_models_in_this_process(monkeypatch)
    context = make_context(write_run_config(tmp_path, "shuffle"))
    session, _ = selection_session(context, pre_hpo)
    shuffle = ShuffleEvaluator(session)
    kept = [v for v in VARIABLES if v != NOISE[0]]
    next_sets = context.hooks.create_variable_sets_to_try(  # as the stage asks for the next iteration's sets
        model_config={}, models_with_inputs=[], metric="loss", all_vars=VARIABLES, vars_remaining=kept
    )
    planned = shuffle.planned_scores(kept, 2, "iteration2", len(session.folds))
    assert planned is not None and all(len(jobs) == 2 * len(kept) for jobs in planned)

    sent: list[Any] = []
    real_score_models = shuffle_module.score_models

    def recording_score_models(session: Any, models: Any) -> Any:
        sent.extend(models)
        return real_score_models(session, models)

    monkeypatch.setattr(shuffle_module, "score_models", recording_score_models)
    with ray_session(context.plan):
        outcome = RetrainEvaluator(session).evaluate(
            {"without_noise1": kept}, 2, "iteration1_reeval", planned_scores={"without_noise1": planned}
        )
        session.models = list(outcome.models["without_noise1"])
        filed = shuffle.evaluate(next_sets, 2, "iteration2")
        reference = shuffle.reference(kept, 2, "iteration2")
        assert not sent, f"models went to the scoring actors although their trials had filed the values: {sent}"

        for entry in session.models:
            score_file(entry.path).unlink()
        recomputed = shuffle.evaluate(next_sets, 2, "iteration2")
        assert len(sent) == len(session.folds)
        # another iteration's seeds were not planned: they are computed, not taken from the file
        other = shuffle.evaluate(next_sets, 2, "iteration3")
    for label in next_sets:
        np.testing.assert_array_equal(filed.values[label], recomputed.values[label])
        assert not np.array_equal(other.values[label], filed.values[label])
    assert np.isfinite(reference[:, 0]).all()  # the reference shuffles nothing: one evaluation per model
