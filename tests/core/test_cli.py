"""The ``optima`` command line: version, help, check, plugins, run (and the original's ``optima -c`` spelling)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from core_helpers import FakeSite

import optima_core
from optima_core.cli import _translate_original_spelling, cli, main
from optima_core.cli.run_cmd import run_command
from optima_core.clusters import local

#: Every command-line argument of the reference's ``optima`` (besides the config).
REFERENCE_RUN_ARGUMENTS = (
    "defaults",
    "name",
    "cluster",
    "cluster_config",
    "cpus",
    "gpus",
    "mem_per_cpu",
    "cpus_per_trial",
    "gpus_per_trial",
    "frac_cpus_reserved",
    "max_pending_trials",
    "temp_dir",
    "fixed_ray_node_size",
    "workers",
    "cpus_per_worker",
    "gpus_per_worker",
    "min_cpus_per_ray_node",
    "runtime",
    "exclude",
)


def invoke(*arguments: str) -> Result:
    return CliRunner().invoke(cli, list(arguments))


def optima_script() -> str:
    script = Path(sys.executable).with_name("optima")
    assert script.exists(), f"the optima script is not installed next to {sys.executable}"
    return str(script)


def assert_user_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.fixture
def two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "available_cpus", lambda: 2)


@pytest.fixture
def recorded_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace what ``optima run`` does with a recorder of the parsed arguments (parsing itself stays real)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(run_command, "callback", lambda **arguments: calls.append(arguments))
    return calls


# ---------------------------------------------------------------------------------------------------------------
# --version, --help
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str) -> None:
    result = invoke(flag)
    assert result.exit_code == 0
    assert result.output == f"optima {optima_core.__version__}\n"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_commands(flag: str) -> None:
    result = invoke(flag)
    assert result.exit_code == 0
    for command in ("run", "check", "plugins"):
        assert f"  {command} " in result.output


def test_run_accepts_every_reference_argument_in_both_spellings() -> None:
    options = {name for parameter in run_command.params for name in parameter.opts}
    assert {"-c", "--config"} <= options
    for argument in REFERENCE_RUN_ARGUMENTS:
        assert f"--{argument}" in options
        assert f"--{argument.replace('_', '-')}" in options
    help_text = invoke("run", "--help").output
    assert "--cpus_per_trial" in help_text and "--min_cpus_per_ray_node" in help_text


def test_unknown_command_is_a_usage_error() -> None:
    result = invoke("frobnicate")
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.output


# ---------------------------------------------------------------------------------------------------------------
# optima check
# ---------------------------------------------------------------------------------------------------------------


def test_check_text(write_config) -> None:
    path = write_config(
        "max_epochs = 30\ndef get_inputs(run_config, nevts, input_vars_list, disable_printing=False):\n    return None"
    )
    result = invoke("check", str(path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{path}: valid"
    assert "[Training]" in lines
    assert "  max_epochs = 30   (run-config)" in lines
    assert "  ASHA_max_t = 30   (derived from max_epochs)" in lines
    assert "  early_stopping_patience = 6" in lines
    assert "[Hooks]  (first provider wins)" in lines
    assert any(line.startswith("  get_inputs: run-config") for line in lines)
    assert "  fit_function: optima_core.builtin.plugin" in lines


def test_check_json(write_config) -> None:
    path = write_config("def fit_function(df, metric, op, conditions):\n    return None")
    result = invoke("check", str(path), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["config"] == str(path)
    assert payload["parameters"]["perform_main_hyperopt"] == {"value": True, "source": "run-config"}
    assert payload["hooks"]["fit_function"] == ["run-config", "optima_core.builtin.plugin"]
    assert set(payload) == {"config", "parameters", "hooks", "backends", "warnings", "extra_names"}


def test_check_bad_config_json_is_still_a_plain_error(write_config) -> None:
    result = invoke("check", str(write_config("max_epoch = 3")), "--json")
    assert_user_error(result, "did you mean 'max_epochs'?")


def test_check_survives_a_broken_plugin(fakeplug: FakeSite, write_config) -> None:
    result = invoke("check", str(write_config()))
    assert result.exit_code == 0, result.output


def test_check_reports_duplicate_backends(fake_site: FakeSite, write_config) -> None:
    source = (
        "from optima_core.hookspecs import hookimpl\n"
        "from optima_core.plugins.descriptors import BackendDescriptor\n"
        "@hookimpl\n"
        "def optima_register_backends():\n"
        "    return [BackendDescriptor('Twin', 'x:y')]\n"
    )
    fake_site.add_distribution(
        "twins", {"twin_a": "twin_a_mod", "twin_b": "twin_b_mod"}, {"twin_a_mod": source, "twin_b_mod": source}
    )
    result = invoke("check", str(write_config()))
    assert_user_error(
        result, "- plugins = (installed plugins)", "backend named 'Twin'", "'twin_a' (twins)", "'twin_b' (twins)"
    )


# ---------------------------------------------------------------------------------------------------------------
# optima plugins
# ---------------------------------------------------------------------------------------------------------------


def test_plugins_text() -> None:
    result = invoke("plugins")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "DISTRIBUTION", "VERSION", "STATUS", "HOOKS"]
    builtin = next(line for line in lines if line.startswith("optima_core.builtin.plugin"))
    assert builtin.split()[1:4] == ["optima-core", optima_core.__version__, "active"]
    clusters = next(line for line in lines if line.startswith("clusters: "))
    assert "local ['optima_core.builtin.plugin' (optima-core)]" in clusters


def test_plugins_json() -> None:
    result = invoke("plugins", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    builtin = next(p for p in payload["plugins"] if p["name"] == "optima_core.builtin.plugin")
    assert builtin["status"] == "active" and "fit_function" in builtin["hooks"]
    assert [c["name"] for c in payload["components"]["clusters"]].count("local") == 1
    assert payload["conflicts"] == []


def test_plugins_lists_a_failed_plugin_in_process(fakeplug: FakeSite) -> None:
    result = invoke("plugins")
    assert result.exit_code == 0, result.output
    broken = next(line for line in result.output.splitlines() if line.startswith("broken "))
    assert broken.split()[1:4] == ["fakeplug", "1.0", "failed"]
    assert "    error: RuntimeError: fakeplug_broken refuses to import" in result.output
    assert "FakeNet ['good' (fakeplug)]" in result.output


def test_plugins_subprocess_with_a_broken_plugin(fakeplug: FakeSite) -> None:
    """The installed ``optima`` script, with the fake distribution on PYTHONPATH, still works."""
    text = subprocess.run([optima_script(), "plugins"], env=fakeplug.env(), capture_output=True, text=True, timeout=60)
    assert text.returncode == 0, text.stderr
    assert "Traceback" not in text.stderr
    broken = next(line for line in text.stdout.splitlines() if line.startswith("broken "))
    assert "failed" in broken.split()
    assert "RuntimeError: fakeplug_broken refuses to import" in text.stdout

    as_json = subprocess.run(
        [optima_script(), "plugins", "--json"], env=fakeplug.env(), capture_output=True, text=True, timeout=60
    )
    assert as_json.returncode == 0, as_json.stderr
    records = {p["name"]: p for p in json.loads(as_json.stdout)["plugins"]}
    assert records["broken"]["status"] == "failed"
    assert records["broken"]["distribution"] == "fakeplug"
    assert records["broken"]["error"] == "RuntimeError: fakeplug_broken refuses to import"
    assert records["good"]["status"] == "active"
    assert records["optima_core.builtin.plugin"]["status"] == "active"


def test_plugins_subprocess_with_the_plugin_disabled(fakeplug: FakeSite, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    env = fakeplug.env(OPTIMA_DISABLE_PLUGINS="broken", FAKEPLUG_MARKER=str(marker))
    result = subprocess.run([optima_script(), "plugins", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    records = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    assert records["broken"]["status"] == "disabled"
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------------------------
# optima run, and the original spelling
# ---------------------------------------------------------------------------------------------------------------


def test_run_with_a_bad_config(write_config) -> None:
    result = invoke("run", str(write_config("monitor_op = 'minimize'")))
    assert_user_error(result, "error: The run-config", "- monitor_op = 'minimize'")


def test_run_without_a_config() -> None:
    result = invoke("run")
    assert result.exit_code == 2
    assert "give the run-config" in result.output


def test_run_with_two_different_configs(write_config) -> None:
    result = invoke("run", str(write_config()), "-c", str(write_config()))
    assert result.exit_code == 2
    assert "two run-configs given" in result.output


def test_run_custom_cluster_needs_a_cluster_config(write_config) -> None:
    result = invoke("run", str(write_config()), "--cluster", "custom")
    assert result.exit_code == 2
    assert "--cluster custom needs --cluster_config" in result.output


def test_run_unknown_cluster(write_config) -> None:
    assert_user_error(invoke("run", str(write_config()), "--cluster", "moon"), "no cluster named 'moon'", "'local'")


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (["--cpus", "0"], ["- --cpus = 0: expected at least 1"]),
        (["--cpus", "3"], ["- --cpus = 3: expected at most the 2 CPU(s) this machine offers"]),
        (["--temp_dir", "relative/ray"], ["- --temp_dir = 'relative/ray': expected an absolute path"]),
        (["--temp_dir", "/" + "t" * 60], ["- --temp_dir", "at most 45 characters"]),
        (["--cpus", "1", "--cpus_per_trial", "2"], ["- --cpus_per_trial = 2.0: expected at most the 1 CPU(s) left"]),
        (["--cpus-per-trial", "3"], ["- --cpus_per_trial = 3.0: expected at most the 2 CPU(s) left"]),
        (["--cpus_per_trial", "0"], ["- --cpus_per_trial = 0.0: expected a positive number"]),
        (["--gpus_per_trial", "1"], ["- --gpus_per_trial = 1.0: expected between 0 and --gpus=0"]),
        (["--frac_cpus_reserved", "1"], ["- --frac_cpus_reserved = 1.0"]),
        (["--mem_per_cpu", "-5"], ["- --mem_per_cpu = -5.0"]),
        (["--max_pending_trials", "0"], ["- --max_pending_trials = 0"]),
    ],
)
def test_run_bad_resource_arguments(arguments: list[str], fragments: list[str], write_config, two_cpus: None) -> None:
    result = invoke("run", str(write_config()), *arguments)
    assert_user_error(result, "The command line", *fragments)


def test_run_bad_resource_arguments_are_listed_together(write_config, two_cpus: None) -> None:
    result = invoke(
        "run", str(write_config()), "--cpus", "0", "--gpus", "-1", "--temp_dir", "rel", "--mem_per_cpu", "0"
    )
    assert_user_error(
        result, "has 4 problems", "--cpus = 0", "--gpus = -1", "--temp_dir = 'rel'", "--mem_per_cpu = 0.0"
    )


def test_run_values_that_are_not_numbers() -> None:
    result = invoke("run", "whatever.py", "--cpus", "two")
    assert result.exit_code == 2
    assert "'two' is not a valid integer" in result.output


def test_run_config_problems_come_before_resource_problems(write_config) -> None:
    result = invoke("run", str(write_config("max_epochs = 0")), "--cpus", "0")
    assert_user_error(result, "- max_epochs = 0")
    assert "--cpus" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-c", "cfg.py", "--cpus", "1"], ["run", "-c", "cfg.py", "--cpus", "1"]),
        (["--config", "cfg.py"], ["run", "--config", "cfg.py"]),
        (["--config=cfg.py"], ["run", "--config=cfg.py"]),
        (["--cpus", "2", "-c", "cfg.py"], ["run", "--cpus", "2", "-c", "cfg.py"]),
        (["run", "-c", "cfg.py"], ["run", "-c", "cfg.py"]),
        (["check", "cfg.py"], ["check", "cfg.py"]),
        (["--help"], ["--help"]),
        ([], []),
    ],
)
def test_original_spelling_translation(argv: list[str], expected: list[str]) -> None:
    assert _translate_original_spelling(argv) == expected


def _main(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    code = exited.value.code
    return 0 if code is None else int(code)


def test_original_spelling_reaches_run(recorded_run: list[dict[str, Any]]) -> None:
    assert _main(["-c", "my_config.py", "--cpus", "1"]) == 0
    (call,) = recorded_run
    assert call["config_option"] == "my_config.py" and call["config_path"] is None
    assert call["cpus"] == 1

    assert _main(["--config", "other.py", "--cpus_per_trial", "0.5", "--name", "job"]) == 0
    assert recorded_run[1]["config_option"] == "other.py"
    assert recorded_run[1]["cpus_per_trial"] == 0.5
    assert recorded_run[1]["name"] == "job"


@pytest.mark.parametrize("spelling", ["--cpus_per_trial", "--cpus-per-trial"])
def test_both_option_spellings_are_accepted(spelling: str, recorded_run: list[dict[str, Any]]) -> None:
    assert _main(["run", "cfg.py", spelling, "2", "--max-pending-trials", "3", "--fixed_ray_node_size"]) == 0
    (call,) = recorded_run
    assert call["cpus_per_trial"] == 2.0
    assert call["max_pending_trials"] == 3
    assert call["fixed_ray_node_size"] is True


def test_run_defaults(recorded_run: list[dict[str, Any]]) -> None:
    assert _main(["run", "cfg.py"]) == 0
    (call,) = recorded_run
    assert call["cpus"] is None  # all CPUs available to this process
    assert call["cpus_per_trial"] == 1.0
    assert call["cluster"] == "local"
    assert call["mem_per_cpu"] is None  # Ray measures memory (pitfall 16)


def test_original_spelling_with_a_bad_config_end_to_end(write_config, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["-c", str(write_config("max_epochs = 'x'")), "--cpus", "1"]) == 2
    captured = capsys.readouterr()
    assert "- max_epochs = 'x'" in captured.err
    assert "Traceback" not in captured.err


def test_main_reads_sys_argv(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["optima", "--version"])
    assert _main(None) == 0  # type: ignore[arg-type]
    assert capsys.readouterr().out.strip() == f"optima {optima_core.__version__}"


def test_user_error_is_a_click_exception() -> None:
    from optima_core.cli.errors import UserError

    assert issubclass(UserError, click.ClickException) and UserError.exit_code == 2


def test_installed_script_with_the_original_spelling_and_a_bad_config(write_config, fake_site: FakeSite) -> None:
    config = write_config("max_epoch = 12")
    result = subprocess.run(
        [optima_script(), "-c", str(config), "--cpus", "1"],
        env=fake_site.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"error: The run-config '{config}' has 1 problem:" in result.stderr
    assert (
        "- max_epoch = 12: expected a known parameter; unknown parameter; did you mean 'max_epochs'?" in result.stderr
    )


def test_verbosity_options_with_the_original_spelling(recorded_run: list[dict[str, Any]]) -> None:
    assert _main(["-c", "cfg.py", "-q"]) == 0
    assert _main(["run", "cfg.py", "--verbose"]) == 0
    assert [(call["verbose"], call["quiet"]) for call in recorded_run] == [(False, True), (True, False)]


def test_verbose_and_quiet_exclude_each_other(write_config) -> None:
    result = invoke("check", str(write_config()), "-v", "-q")
    assert result.exit_code == 2
    assert "-v/--verbose and -q/--quiet exclude each other" in result.output


REPLACING_PLOTS = """
from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import PlotDescriptor


@hookimpl
def optima_register_plots():
    return [
        PlotDescriptor("roc_curves", "base_plots:roc"),
        PlotDescriptor("input_data", "base_plots:inputs"),
    ]
"""


def test_plugins_shows_which_provider_of_a_replaced_figure_won(fake_site: FakeSite) -> None:
    fake_site.add_distribution("base-plots", {"base": "base_plots"}, {"base_plots": REPLACING_PLOTS})
    fake_site.add_distribution(
        "my-roc",
        {"my_roc": "my_roc_plots"},
        {"my_roc_plots": REPLACING_PLOTS.replace('"base_plots:roc")', '"my_roc_plots:roc", replaces=True)')},
    )
    result = invoke("plugins")
    assert result.exit_code == 0, result.output
    plots = next(line for line in result.output.splitlines() if line.startswith("plots: "))
    assert "roc_curves ['my_roc' (my-roc), replacing 'base' (base-plots)]" in plots
    payload = json.loads(invoke("plugins", "--json").stdout)
    (roc,) = [c for c in payload["components"]["plots"] if c["name"] == "roc_curves"]
    assert roc["provider"] == "'my_roc' (my-roc)" and roc["replaces"] == "'base' (base-plots)"
