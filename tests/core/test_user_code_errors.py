"""An exception raised by a run-config hook is the user's to fix (issue 13, defect 9a): it is raised as one
``UserCodeError`` naming the hook, the exception and the run-config's file:line; OPTIMA's own user errors pass
unchanged. The CLI shows it in one line, its traceback only with ``-v`` (a real run: tests/engine/test_user_causes.py).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from optima_core.config.loader import load_module
from optima_core.errors import OptimaUserError, UserCodeError
from optima_core.plugins.manager import create_plugin_manager

HOOKS = """
from optima_core.errors import OptimaUserError


def get_inputs(run_config, nevts, input_vars_list, disable_printing=False):
    return _read(run_config.inputs_file)


def _read(path):
    with open(path) as handle:  # line 10
        return handle.read()


def fit_function(df, metric, op, conditions):
    raise OptimaUserError("fit_function: the history holds no 'val_loss'")
"""


def _hooks(tmp_path: Path) -> tuple[Any, Path]:
    path = tmp_path / "my_config.py"
    path.write_text(textwrap.dedent(HOOKS))
    manager = create_plugin_manager(run_config_module=load_module(path), load_entry_points=False)
    return manager.hooks, path


def test_an_exception_of_a_run_config_hook_names_the_hook_the_error_and_the_users_line(tmp_path: Path) -> None:
    hooks, path = _hooks(tmp_path)
    missing = tmp_path / "missing.parquet"
    run_config = type("RunConfig", (), {"inputs_file": str(missing)})()
    with pytest.raises(UserCodeError) as raised:
        hooks.get_inputs(run_config=run_config, nevts=None, input_vars_list=["pt"], disable_printing=True)
    assert str(raised.value) == (
        f"run-config hook 'get_inputs' raised FileNotFoundError: [Errno 2] No such file or directory: "
        f"'{missing}' ({path}:10)"
    )
    assert isinstance(raised.value.__cause__, FileNotFoundError)


def test_an_optima_user_error_raised_in_a_run_config_hook_passes_unchanged(tmp_path: Path) -> None:
    hooks, _ = _hooks(tmp_path)
    with pytest.raises(OptimaUserError) as raised:
        hooks.fit_function(df=None, metric_to_fit="val_loss", metric_to_fit_op=None, overtraining_conditions=[])
    assert type(raised.value) is OptimaUserError
    assert str(raised.value) == "fit_function: the history holds no 'val_loss'"


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "-v"])
def test_the_cli_shows_a_user_code_error_in_one_line_and_its_traceback_only_with_v(
    verbose: bool, write_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from optima_core.cli import cli

    def failing(*args: object, **kwargs: object) -> None:
        try:
            raise FileNotFoundError("events.parquet")
        except FileNotFoundError as error:
            raise UserCodeError("run-config hook 'get_inputs' raised FileNotFoundError: events.parquet") from error

    monkeypatch.setattr("optima_core.config.validation.check", failing)
    result = CliRunner().invoke(cli, ["run", str(write_config()), *(["-v"] if verbose else [])])
    assert result.exit_code == 2, result.output
    assert "error: run-config hook 'get_inputs' raised FileNotFoundError: events.parquet" in result.stderr
    assert ("Traceback" in result.stderr) is verbose, result.stderr
