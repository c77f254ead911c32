"""``optima run`` writes ``report.html`` after every stage: also when a later stage fails, the report shows what
the finished stages left (a real run: real inputs, Ray and a Lightning training, with a stage that fails after)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from report_helpers import write_events

from optima_core.report.record import command_line

pytestmark = [pytest.mark.slow, pytest.mark.lightning]


def test_report_is_written_after_a_stage_and_kept_when_a_later_stage_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("optima_lightning")
    import ray
    from click.testing import CliRunner

    from optima_core.cli import cli
    from optima_core.engine import orchestrator
    from optima_core.engine.fixed import FixedStage
    from optima_core.engine.stage import Stage, StageResult
    from optima_core.errors import OptimaUserError

    seen: dict[str, Any] = {}

    class FailingStage(Stage):
        name = "failing"

        def run(self, context: Any, previous: StageResult | None) -> StageResult:
            report = context.output / "report.html"
            seen["report after the first stage"] = report.read_text() if report.exists() else None
            raise OptimaUserError("the stage 'failing' failed on purpose")

    monkeypatch.setattr(orchestrator, "stages_for", lambda run_config: [FixedStage(), FailingStage()])
    events = write_events(tmp_path / "events.parquet")
    config = tmp_path / "run_config.py"
    config.write_text(
        "\n".join(
            [
                "perform_variable_opt = False",
                "perform_main_hyperopt = False",
                "perform_PBT_hyperopt = False",
                'model_type = "Lightning"',
                f"inputs_file = {str(events)!r}",
                'input_vars = ["x", "y"]',
                f"output_path = {str(tmp_path / 'out')!r}",
                'output_name = "report"',
                "max_epochs = 2",
                'search_space = {"batch_size": 128, "num_layers": 1, "units": 4, "learning_rate": 0.01}',
                "",
            ]
        )
    )
    result = CliRunner().invoke(cli, ["run", str(config), "--cpus", "2"])
    assert not ray.is_initialized()
    assert result.exit_code == 2, (result.output, result.exception)
    assert "failed on purpose" in result.output

    first = seen["report after the first stage"]
    assert first is not None, "no report.html after the first stage"
    output = tmp_path / "out" / "fixedHPs_report"
    evaluation = json.loads((output / "models" / "evaluation.json").read_text())
    auc = evaluation["average"]["test"]["roc_auc"]["value"]
    for text in (first, (output / "report.html").read_text()):
        match = re.search(r'id="cv-test-auc" data-value="([^"]+)"', text)
        assert match and float(match.group(1)) == pytest.approx(auc), text[:2000]
        assert 'id="stage-models"' in text and "Training with fixed hyperparameters" in text
    manifest = json.loads((output / "optima_run.json").read_text())  # in-process: the argv of this process
    assert manifest["argv"] == sys.argv and manifest["command"] == command_line(sys.argv)
    assert manifest["versions"]["optima-core"] and manifest["resources"]["cpus"] == 2
    assert manifest["inputs"]["variables"] == ["x", "y"]
    totals = {entry["class"]: entry["events"] for entry in manifest["inputs"]["classes"]["train"]}
    assert set(totals) == {"Signal", "Background"} and sum(totals.values()) > 0
