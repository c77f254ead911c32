"""LocalCluster: what Ray gets on this machine and how many trials run at once (pitfall 2: no 3-CPU minimum), and
the one cluster interface (:class:`RunTarget`) that ``optima run`` hands every run to, local or batch."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from core_helpers import FakeSite

from optima_core.cli import cli
from optima_core.clusters import local
from optima_core.clusters.base import Cluster
from optima_core.clusters.local import MAX_TEMP_DIR_LENGTH, LocalCluster, ResourceRequest, available_cpus
from optima_core.clusters.target import RunRequest, RunTarget, select_cluster
from optima_core.config.loader import load_run_config
from optima_core.config.problems import ConfigError
from optima_core.errors import PluginError
from optima_core.plugins.manager import create_plugin_manager


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 2-core laptop, whatever machine runs the tests."""
    monkeypatch.setattr(local, "available_cpus", lambda: 2)


def plan(**request: object):
    return LocalCluster().plan(ResourceRequest(**request))  # type: ignore[arg-type]


def test_available_cpus_respects_the_affinity_mask() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert available_cpus() == expected


def test_default_uses_every_available_cpu() -> None:
    result = plan()
    assert result.cpus == available_cpus()
    assert result.concurrent_trials == available_cpus()


def test_two_cores_run_two_trials_at_once(two_cores: None) -> None:
    result = plan(cpus_per_trial=1)
    assert result.cpus == 2
    assert result.cpus_reserved == 0
    assert result.concurrent_trials == 2
    assert result.max_pending_trials == 2
    assert result.memory_mb is None  # let Ray measure (pitfall 16)
    assert result.describe() == (
        "2 CPU(s), 0 GPU(s), memory Ray's default; 1 CPU(s) and 0 GPU(s) per trial -> up to 2 trial(s) at once"
    )


def test_a_single_cpu_is_enough(two_cores: None) -> None:
    result = plan(cpus=1)
    assert (result.cpus, result.concurrent_trials) == (1, 1)


@pytest.mark.parametrize(
    ("request_arguments", "concurrent"),
    [
        ({"cpus_per_trial": 0.5}, 4),
        ({"cpus_per_trial": 2}, 1),
        ({"cpus_per_trial": 1.5}, 1),
        ({"frac_cpus_reserved": 0.5}, 1),
        ({"frac_cpus_reserved": 0.1}, 1),  # ceil(0.2) = 1 CPU reserved
        ({"gpus": 1, "gpus_per_trial": 0.5, "cpus_per_trial": 0.25}, 2),
        ({"gpus": 1, "gpus_per_trial": 1.0}, 1),
    ],
)
def test_concurrency(request_arguments: dict, concurrent: int, two_cores: None) -> None:
    assert plan(**request_arguments).concurrent_trials == concurrent


def test_memory_and_pending_trials(two_cores: None) -> None:
    result = plan(mem_per_cpu=1500.0, max_pending_trials=5)
    assert result.memory_mb == 3000.0
    assert result.max_pending_trials == 5
    assert "memory 3000 MB" in result.describe()


def test_reserved_cpus_are_rounded_up(two_cores: None) -> None:
    assert plan(frac_cpus_reserved=0.1).cpus_reserved == 1


def test_bad_requests_are_listed_together(two_cores: None) -> None:
    with pytest.raises(ConfigError) as raised:
        plan(
            cpus=0,
            gpus=-1,
            cpus_per_trial=0,
            gpus_per_trial=2,
            frac_cpus_reserved=1.0,
            mem_per_cpu=0,
            max_pending_trials=0,
            temp_dir="relative/dir",
        )
    error = raised.value
    assert error.source == "The command line"
    parameters = [p.parameter for p in error.problems]
    assert parameters == [
        "--cpus",
        "--gpus",
        "--cpus_per_trial",
        "--gpus_per_trial",
        "--frac_cpus_reserved",
        "--mem_per_cpu",
        "--max_pending_trials",
        "--temp_dir",
    ]
    assert str(error).startswith("The command line has 8 problems:")


@pytest.mark.parametrize(
    ("request_arguments", "parameter", "expected"),
    [
        ({"cpus": 3}, "--cpus", "at most the 2 CPU(s) this machine offers"),
        ({"cpus": 1, "cpus_per_trial": 2}, "--cpus_per_trial", "at most the 1 CPU(s) left for trials"),
        ({"frac_cpus_reserved": 0.5, "cpus_per_trial": 2}, "--cpus_per_trial", "at most the 1 CPU(s) left for trials"),
        ({"gpus_per_trial": 0.5}, "--gpus_per_trial", "between 0 and --gpus=0"),
        ({"temp_dir": "/" + "x" * MAX_TEMP_DIR_LENGTH}, "--temp_dir", f"at most {MAX_TEMP_DIR_LENGTH} characters"),
    ],
)
def test_single_bad_request(request_arguments: dict, parameter: str, expected: str, two_cores: None) -> None:
    with pytest.raises(ConfigError) as raised:
        plan(**request_arguments)
    (problem,) = raised.value.problems
    assert problem.parameter == parameter
    assert expected in problem.expected


def test_a_short_absolute_temp_dir_is_fine(two_cores: None) -> None:
    assert plan(temp_dir="/tmp/ray").temp_dir == "/tmp/ray"


# ---------------------------------------------------------------------------------------------------------------
# One cluster interface: every --cluster choice is a RunTarget and optima run only calls launch()
# ---------------------------------------------------------------------------------------------------------------

#: A third-party place to run that is neither this machine nor a batch system: it records what launch() received.
RECORDING_TARGET = """
import json, os
from optima_core.clusters.target import RunTarget
from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import ClusterDescriptor


class Recorder(RunTarget):
    name = "recorder"

    def launch(self, request):
        with open(os.environ["RECORD_TO"], "w") as f:
            json.dump({"config": str(request.config_path), "cpus": request.arguments["cpus"],
                       "model_type": request.run_config.model_type}, f)
        request.report("recorded")


class NotATarget:
    pass


@hookimpl
def optima_register_clusters():
    return [ClusterDescriptor("recorder", "recording_target:Recorder", "records the run"),
            ClusterDescriptor("stray", "recording_target:NotATarget", "no cluster at all")]
"""


def test_local_and_batch_clusters_are_run_targets() -> None:
    assert isinstance(select_cluster(create_plugin_manager(), "local"), LocalCluster)
    assert issubclass(LocalCluster, RunTarget) and issubclass(Cluster, RunTarget)


def test_optima_run_launches_any_registered_target(
    fake_site: FakeSite, write_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_site.add_distribution(
        "recording-target", {"recorder": "recording_target"}, {"recording_target": RECORDING_TARGET}
    )
    record = tmp_path / "record.json"
    monkeypatch.setenv("RECORD_TO", str(record))
    config = write_config()
    result = CliRunner().invoke(cli, ["run", str(config), "--cluster", "recorder", "--cpus", "3"])
    assert result.exit_code == 0, result.output
    assert "recorded" in result.output
    assert json.loads(record.read_text()) == {"config": str(config), "cpus": 3, "model_type": "Keras"}


def test_a_registered_cluster_that_is_no_target_is_named(fake_site: FakeSite) -> None:
    fake_site.add_distribution(
        "recording-target", {"recorder": "recording_target"}, {"recording_target": RECORDING_TARGET}
    )
    with pytest.raises(
        PluginError, match=r"the cluster 'stray' registered by .*recording.target.* is <recording_target"
    ):
        select_cluster(create_plugin_manager(), "stray")


def test_local_refuses_a_cluster_config() -> None:
    with pytest.raises(
        ConfigError, match=r"--cluster_config = 'site.toml': expected no cluster config with --cluster local"
    ):
        select_cluster(create_plugin_manager(), "local", "site.toml")


def test_local_launch_plans_this_machine_and_runs_here(
    write_config: Any, two_cores: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from optima_core.engine import orchestrator

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(orchestrator, "run", lambda *arguments: calls.append(arguments))
    config = write_config()
    run_config = load_run_config(config)
    manager = create_plugin_manager(run_config_module=run_config.module)
    arguments = dict(
        cpus=None,
        gpus=0,
        mem_per_cpu=None,
        cpus_per_trial=0.5,
        gpus_per_trial=0.0,
        frac_cpus_reserved=0.0,
        max_pending_trials=None,
        temp_dir=None,
        resume=True,
        address=None,
    )
    lines: list[str] = []
    LocalCluster().launch(RunRequest(run_config, manager, config, arguments, report=lines.append))
    ((given_config, given_manager, plan, options),) = calls
    assert (given_config, given_manager) == (run_config, manager)
    assert (plan.cpus, plan.concurrent_trials, options.resume, options.address) == (2, 4, True, None)
    assert lines == [f"run-config {config} is valid; resources: {plan.describe()}"]
