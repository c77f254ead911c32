"""The report builder on synthetic output folders: what is there is shown, what is not is one line saying why."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from report_helpers import RUN_CONFIG, evaluation, tiny_png, write_json

from optima_core.report.build import build_report, write_report, write_report_quietly


class Page(HTMLParser):
    """The images, links, ids and elements (tag, attributes) of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, Any]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def find(self, tag: str | None = None, **attrs: str) -> list[dict[str, Any]]:
        return [
            a for t, a in self.elements if (tag is None or t == tag) and all(a.get(k) == v for k, v in attrs.items())
        ]

    @property
    def images(self) -> list[dict[str, Any]]:
        return self.find("img")


def missing_lines(text: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="missing">(.*?)</p>', text)]


def test_figures_on_disk_are_inline_pngs_and_a_missing_one_is_one_line(run_folder: Path) -> None:
    text = build_report(run_folder)
    page = Page(text)
    images = {image["alt"]: image["src"] for image in page.images}
    assert set(images) == {"pt", "metric histories", "model_fold0: roc_node0"}, sorted(images)
    embedded = images["metric histories"].removeprefix("data:image/png;base64,")
    assert base64.b64decode(embedded) == (run_folder / "main_hyperopt" / "metric_histories.png").read_bytes()
    lines = missing_lines(text)
    overview = [line for line in lines if line.startswith("search overview")]
    assert len(overview) == 1, lines
    assert "optima-plots" in overview[0] or "not drawn" in overview[0]
    # nothing refers to a file or the network: one self-contained page
    assert not re.search(r'(src|href)="(?!data:image/png;base64,|#)', text)


def test_a_file_that_is_not_a_png_is_not_shown_as_an_image(run_folder: Path) -> None:
    (run_folder / "main_hyperopt" / "metric_histories.png").write_bytes(b"<html>not an image</html>")
    text = build_report(run_folder)
    assert "metric histories" not in {image["alt"] for image in Page(text).images}
    assert any(line.startswith("metric histories") for line in missing_lines(text))


def test_a_requested_stage_that_did_not_run_is_one_line(run_folder: Path) -> None:
    text = build_report(run_folder)
    section = re.search(r'<section id="stage-PBT">(.*?)</section>', text)
    assert section, "the PBT stage asked for has a section"
    assert missing_lines(section.group(1)) == [
        "Population Based Training: stage not run (the run had not reached it when this report was written)"
    ]
    assert "stage-variable_selection" not in text  # not asked for: no section at all


def test_best_value_trial_and_crossvalidated_test_auc_are_findable(run_folder: Path) -> None:
    page = Page(build_report(run_folder))
    (best,) = page.find(id="best-value-trial")
    assert best["data-trial"] == "bbb22222" and best["data-stage"] == "main_hyperopt"
    evaluation = json.loads((run_folder / "main_hyperopt/crossvalidation/best_value/evaluation.json").read_text())
    (auc,) = page.find(id="cv-test-auc")
    assert float(auc["data-value"]) == pytest.approx(evaluation["average"]["test"]["roc_auc"]["value"])
    cells = page.find("td", **{"data-metric": "roc_auc"})
    assert [float(c["data-value"]) for c in cells] == [pytest.approx(0.92)]


def test_trial_table_selection_reasons_and_commands(run_folder: Path) -> None:
    text = build_report(run_folder)
    page = Page(text)
    assert [c["data-trial"] for c in page.find("td") if "data-trial" in c] == ["aaa11111", "bbb22222", "ccc33333"]
    assert page.find("td", **{"data-trial": "bbb22222"})[0]["class"] == "best"
    assert "stopped at epoch 2" in text
    assert "lowest val_loss" in text and "val_loss is minimized" in text
    assert "R² = 0.97; trials fitted = 2" in text
    stage = (run_folder / "main_hyperopt").resolve()
    assert f"optuna-dashboard sqlite:///{stage / 'optuna_study.db'}" in text
    assert f"tensorboard --logdir {stage / 'tune'}" in text


def test_trials_are_read_from_tune_files_without_trials_json(run_folder: Path) -> None:
    stage = run_folder / "main_hyperopt"
    (stage / "trials.json").unlink()
    trial = stage / "tune" / "trials" / "run_trial_abc12345_1_units=8_2026"
    rows = [{"epoch": e, "trial_id": "abc12345", "optima_target": v} for e, v in [(1, 0.5), (2, 0.3), (3, 0.4)]]
    trial.mkdir(parents=True)
    (trial / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_json(trial / "params.json", {"units": 8})
    text = build_report(run_folder)
    assert "from Ray Tune&#x27;s result files (no trials.json)" in text
    row = re.search(r'data-trial="abc12345">abc12345</td>(.*?)</tr>', text)
    assert row, text
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    # Optuna number, state (3 of max_epochs 7: stopped), best value, its epoch, last value, epochs, config
    assert cells == ["-", "stopped at epoch 3", "0.3", "2", "0.4", "3", "units=8"]


def test_run_config_is_highlighted_and_reads_as_the_file(run_folder: Path) -> None:
    from optima_core.report.highlight import highlight_python

    source = RUN_CONFIG + 's = f"{1 + 2}"\nclass X:  # c\n    pass\n'
    highlighted = highlight_python(source)
    assert html.unescape(re.sub(r"<[^>]+>", "", highlighted)) == source
    assert '<span class="kw">from</span>' in highlighted and '<span class="kw">def</span>' in highlighted
    assert '<span class="de">get_model</span>' in highlighted and '<span class="de">X</span>' in highlighted
    assert '<span class="co"># the metric</span>' in highlighted
    assert '<span class="nu">7</span>' in highlighted and '<span class="kw">True</span>' in highlighted
    assert '<span class="st">&quot;auc&quot;</span>' in highlighted
    assert highlight_python("x = (\n") == "x = (\n"  # does not tokenize: shown as it is
    assert highlight_python(RUN_CONFIG) in build_report(run_folder)


def test_changed_parameters_are_those_that_differ_from_the_defaults() -> None:
    from optima_core.config.parameters import defaults
    from optima_core.engine.output import jsonable
    from optima_core.report.run_sections import changed_parameters

    resolved = json.loads(json.dumps(jsonable(defaults())))
    resolved.update(perform_variable_opt=False, perform_main_hyperopt=True, perform_PBT_hyperopt=False)
    resolved.update(max_epochs=12, ASHA_max_t=12)  # the derived default follows max_epochs: not a change
    rows = {name: (value, default) for name, _, value, default in changed_parameters(resolved)}
    assert rows["max_epochs"] == (12, defaults()["max_epochs"])
    assert rows["perform_main_hyperopt"] == (True, "required")
    assert set(rows) == {"perform_variable_opt", "perform_main_hyperopt", "perform_PBT_hyperopt", "max_epochs"}
    resolved["ASHA_max_t"] = 5
    assert ("ASHA_max_t", 5) in [(n, v) for n, _, v, _ in changed_parameters(resolved)]


def test_phases_are_shown_when_recorded_else_derived_from_file_times(run_folder: Path) -> None:
    text = build_report(run_folder)
    assert "derived from file times" in text and "<td>main_hyperopt</td>" in text
    manifest = json.loads((run_folder / "optima_run.json").read_text())
    manifest["phases"] = [{"phase": "hpo", "stage": "main_hyperopt", "seconds": 12.345}]
    write_json(run_folder / "optima_run.json", manifest)
    text = build_report(run_folder)
    assert "derived from file times" not in text
    assert "<td>hpo</td><td>main_hyperopt</td><td>12.3</td>" in text


def test_run_facts_and_inputs_are_shown(run_folder: Path) -> None:
    text = build_report(run_folder)
    assert "optima run run_config.py --cpus 2" in text
    assert "<td>ray</td><td>2.60.0</td>" in text and "<td>concurrent trials</td><td>2</td>" in text
    assert "<td>pt</td><td>log10 (scale 1, offset 0)</td>" in text
    assert "<td>training</td><td>Background</td><td>Target 0</td><td>60</td><td>30</td>" in text
    manifest = json.loads((run_folder / "optima_run.json").read_text())
    for key in ("versions", "resources", "inputs", "command"):
        del manifest[key]
    write_json(run_folder / "optima_run.json", manifest)
    lines = missing_lines(build_report(run_folder))
    assert any(line.startswith("Versions: not recorded") for line in lines), lines
    assert any(line.startswith("Events per class: not recorded") for line in lines), lines


def test_variable_selection_iterations_choice_and_stability(tmp_path: Path, run_folder: Path) -> None:
    resolved = json.loads((run_folder / "resolved_config.json").read_text())
    write_json(run_folder / "resolved_config.json", {**resolved, "perform_variable_opt": True})
    iteration = {
        "number": 1,
        "phase": "shuffle",
        "tried": {"eta": {"variables": ["pt"], "value": 0.3, "uncertainty": 0.01}},
        "chosen": "eta",
        "dropped": ["eta"],
        "reevaluated": False,
        "metric": {"value": 0.3, "uncertainty": 0.01},
        "accepted": True,
        "reason": "improvement",
    }
    record = {
        "metric": "loss",
        "op": "min",
        "criterion": "improvement",
        "averages": "mean ± std",
        "all_vars": ["pt", "eta"],
        "start": {"value": 0.35, "uncertainty": 0.02},
        "selected": ["pt"],
        "dropped": ["eta"],
        "iterations": [iteration],
        "stability": {"eta": {"removable": True, "evaluations": 4, "fraction": 0.75, "flips": 1, "dropped": True}},
    }
    write_json(run_folder / "variable_selection" / "variable_selection.json", record)
    tiny_png(run_folder / "variable_selection" / "variable_selection.png")
    text = build_report(run_folder)
    page = Page(text)
    assert "variable selection" in {image["alt"] for image in page.images}
    assert re.search(r'id="selected-variables">pt<', text) and re.search(r'id="dropped-variables">eta<', text)
    assert "<td>1</td><td>shuffle</td><td>eta</td><td>0.3 ± 0.01</td><td>accepted</td><td>improvement</td>" in text
    assert "<td>eta</td><td>yes</td><td>4</td><td>0.75</td><td>-</td><td>-</td><td>1</td><td>yes</td>" in text
    assert any(line.startswith("stability:") for line in missing_lines(text))  # no stability.png
    assert any(line.startswith("Variable selection: pre-HPO: stage not run") for line in missing_lines(text))


def test_fixed_hyperparameters_run(tmp_path: Path, run_folder: Path) -> None:
    shutil.rmtree(run_folder / "main_hyperopt")  # a run with fixed hyperparameters has no stage folders
    resolved = json.loads((run_folder / "resolved_config.json").read_text())
    write_json(
        run_folder / "resolved_config.json", {**resolved, "perform_main_hyperopt": False, "perform_PBT_hyperopt": False}
    )
    write_json(run_folder / "models" / "evaluation.json", {**evaluation("-", [0.8, 0.9]), "label": "fixed"})
    text = build_report(run_folder)
    page = Page(text)
    assert float(page.find(id="cv-test-auc")[0]["data-value"]) == pytest.approx(0.85)
    assert not page.find(id="best-value-trial")
    assert "stage-main_hyperopt" not in text and 'id="stage-models"' in text


def test_write_report_is_atomic_and_a_bad_folder_is_a_user_error(tmp_path: Path, run_folder: Path) -> None:
    from optima_core.errors import OptimaUserError

    path = write_report(run_folder)
    assert path == run_folder / "report.html" and path.read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in run_folder.iterdir() if p.name.startswith(".")) == []  # no temporary file left
    with pytest.raises(OptimaUserError, match=r"'.*nowhere' does not exist"):
        build_report(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(OptimaUserError, match=r"has no optima_run\.json"):
        build_report(tmp_path / "plain")


def test_the_run_only_warns_when_the_report_cannot_be_written(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert write_report_quietly(tmp_path / "nowhere") is None
    assert "could not write report.html" in caplog.text and "does not exist" in caplog.text


def test_optima_report_command_rebuilds_the_page(tmp_path: Path, run_folder: Path) -> None:
    from click.testing import CliRunner

    from optima_core.cli import cli

    result = CliRunner().invoke(cli, ["report", str(run_folder)])
    assert result.exit_code == 0, result.output
    assert (run_folder / "report.html").is_file() and str(run_folder / "report.html") in result.output
    assert 'id="best-value-trial"' in (run_folder / "report.html").read_text()

    (tmp_path / "empty").mkdir()
    bad = CliRunner().invoke(cli, ["report", str(tmp_path / "empty")])
    assert bad.exit_code == 2, bad.output
    assert "error:" in bad.stderr and "has no optima_run.json" in bad.stderr and "Traceback" not in bad.output
