"""One error type for user mistakes: user errors end a command with one named line and exit 2, bugs keep a traceback.

Plugin ``NotImplementedError`` s name the plugin; a user error Ray wrapped is shown as the user wrote it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from core_helpers import FakeSite

from optima_core.cli import cli
from optima_core.errors import OptimaUserError, find_user_error

NOT_IMPLEMENTED_INPUT_HANDLER = """
class InputHandler:
    def __init__(self, run_config):
        raise NotImplementedError("{message}")
"""

PLUGIN_WITH_AN_UNFINISHED_HOOK = """
from optima_core.hookspecs import hookimpl


class HalfDoneHandler:
    def __init__(self, run_config):
        raise NotImplementedError("scalings are not implemented yet")


@hookimpl(tryfirst=True)
def InputHandler():
    return HalfDoneHandler
"""


def run(config: Path, *arguments: str) -> Result:
    return CliRunner().invoke(cli, ["run", str(config), "--cpus", "1", *arguments])


def assert_user_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    for fragment in fragments:
        assert fragment in result.stderr


def ray_wrapped(cause: Exception) -> Exception:
    """``cause`` as Ray re-raises it in the driver when a task or an actor raised it."""
    from ray.exceptions import RayTaskError

    try:
        raise cause
    except Exception as error:  # noqa: BLE001 - building Ray's wrapper from a real traceback
        import traceback

        return RayTaskError("trainable", traceback.format_exc(), error).as_instanceof_cause()


def test_a_run_config_notimplementederror_is_a_plugin_error(write_config, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = write_config(NOT_IMPLEMENTED_INPUT_HANDLER.format(message="handler unfinished"))
    result = run(config)
    assert_user_error(result, "error: plugin 'run-config'", "in __init__", "NotImplementedError: handler unfinished")
    assert str(config) in result.stderr  # the run-config is named by its file


def test_an_installed_plugin_notimplementederror_names_the_plugin(
    fake_site: FakeSite, write_config, tmp_path: Path, monkeypatch
) -> None:
    fake_site.add_distribution(
        "halfdone", {"halfdone": "halfdone_plugin"}, {"halfdone_plugin": PLUGIN_WITH_AN_UNFINISHED_HOOK}
    )
    monkeypatch.chdir(tmp_path)
    result = run(write_config())
    assert_user_error(
        result,
        "error: plugin 'halfdone' (halfdone) in __init__",
        "halfdone_plugin.py",
        "raised NotImplementedError: scalings are not implemented yet",
    )


def test_a_notimplementederror_of_the_core_is_a_bug_with_a_traceback(write_config, monkeypatch) -> None:
    def unfinished(*args: object, **kwargs: object) -> None:
        raise NotImplementedError("core code path")

    monkeypatch.setattr("optima_core.config.validation.check", unfinished)
    result = run(write_config())
    assert result.exit_code == 1
    assert isinstance(result.exception, NotImplementedError)
    assert "not available in this version" not in result.output


def test_a_user_error_wrapped_by_ray_is_shown_as_raised(write_config, monkeypatch) -> None:
    def late(*args: object, **kwargs: object) -> None:
        raise ray_wrapped(OptimaUserError("metric 'auc' returned str of shape (); expected a number"))

    monkeypatch.setattr("optima_core.config.validation.check", late)
    result = run(write_config())
    assert_user_error(result, "error: metric 'auc' returned str of shape (); expected a number")
    assert "trainable" not in result.stderr  # not Ray's text with the remote traceback


def test_a_bug_wrapped_by_ray_keeps_its_traceback(write_config, monkeypatch) -> None:
    def late(*args: object, **kwargs: object) -> None:
        raise ray_wrapped(ZeroDivisionError("division by zero"))

    monkeypatch.setattr("optima_core.config.validation.check", late)
    result = run(write_config())
    assert result.exit_code == 1
    assert isinstance(result.exception, ZeroDivisionError)


def test_find_user_error_follows_explicit_causes_only() -> None:
    user = OptimaUserError("input_vars = []: expected at least one variable")
    try:
        try:
            raise user
        except OptimaUserError as error:
            raise RuntimeError("stage failed") from error
    except RuntimeError as wrapped:
        assert find_user_error(wrapped) is user
    try:
        try:
            raise user
        except OptimaUserError:
            raise KeyError("a bug while handling it") from None
    except KeyError as bug:
        assert find_user_error(bug) is None


@pytest.mark.parametrize(
    "error_type",
    [
        "optima_core.config.problems:ConfigError",
        "optima_core.inputs.errors:InputDataError",
        "optima_core.errors:PluginError",
        "optima_core.engine.errors:OptimizationFailedError",
    ],
)
def test_every_user_error_is_an_optima_user_error(error_type: str) -> None:
    import importlib

    module, _, name = error_type.partition(":")
    assert issubclass(getattr(importlib.import_module(module), name), OptimaUserError)


def test_a_stage_without_results_quotes_the_user_errors_of_its_trials_once(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from optima_core.engine.errors import no_results_error

    metric = OptimaUserError("metric 'spread' returned list of shape (2,); expected a number")
    trials = [SimpleNamespace(error=ray_wrapped(metric)) for _ in range(3)]
    error = no_results_error("main_hyperopt", trials, tmp_path / "tune")
    assert str(error) == (
        "[main_hyperopt] none of the 3 trials reported a result; the trials failed with: "
        "metric 'spread' returned list of shape (2,); expected a number"
    )
    bugs = [SimpleNamespace(error=ray_wrapped(ZeroDivisionError("division by zero")))]
    assert str(no_results_error("PBT", bugs, tmp_path / "tune")) == (
        "[PBT] none of the 1 trials reported a result; the first failed with ZeroDivisionError: division by zero; "
        f"see the error files under {tmp_path / 'tune'}"
    )
