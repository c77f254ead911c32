"""``--cluster custom``: loading errors, a ClusterJob subclass, registration through the entry point, and the
``optima run`` submit branch (a recording cluster: no SLURM needed)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from optima_core.clusters.base import Cluster, ClusterJob
from optima_core.clusters.custom import custom_cluster, load_custom_cluster_class
from optima_core.config.problems import ConfigError
from optima_core.plugins.manager import create_plugin_manager

RECORDING_CLUSTER = """
import json, os
from dataclasses import dataclass
from optima_core.clusters.base import Cluster, ClusterJob as BaseJob


@dataclass
class ClusterJob(BaseJob):
    queue: str = "long"


class CustomCluster(Cluster):
    name = "recorder"

    def submit(self, job):
        with open(os.environ["RECORD_TO"], "w") as f:
            json.dump({"type": type(job).__name__, **job.as_dict()}, f)
        return "77"

    def is_job_running(self, job_id): return False
    def job_id(self): return "77"
    def nodes(self): return ["n1"]
    def cpus_per_node(self): return {"n1": 4}
    def port_ranges(self): return {}
    def start_ray_head(self, node, ports, cpus, gpus, temp_dir): return None
    def start_ray_worker(self, node, head_address, ports, cpus, gpus, temp_dir): return None
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n", "defines no class CustomCluster"),
        ("CustomCluster = 3\n", "CustomCluster is 3: expected a subclass of optima_core.clusters.base.Cluster"),
        ("class CustomCluster:\n    pass\n", "expected a subclass of optima_core.clusters.base.Cluster"),
        (
            "from optima_core.clusters.base import Cluster\nclass CustomCluster(Cluster):\n    pass\n",
            "CustomCluster does not implement: cpus_per_node, is_job_running",
        ),
        (RECORDING_CLUSTER.replace("class ClusterJob(BaseJob)", "class ClusterJob"), "ClusterJob is <class"),
        ("raise ValueError('boom')\n", "could not be executed (line 1): ValueError: boom"),
    ],
)
def test_bad_cluster_files_are_reported(tmp_path: Path, source: str, message: str) -> None:
    path = _write(tmp_path / "cluster.py", source)
    with pytest.raises(ConfigError) as raised:
        load_custom_cluster_class(path)
    assert message in str(raised.value) and str(path) in str(raised.value)


def test_missing_file_and_missing_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        custom_cluster(tmp_path / "nope.py")
    with pytest.raises(ConfigError, match="needs --cluster_config FILE"):
        custom_cluster(None)


def test_custom_cluster_with_its_own_job_class(tmp_path: Path) -> None:
    cluster = (
        create_plugin_manager()
        .descriptor("cluster", "custom")
        .load()(cluster_config=str(_write(tmp_path / "c.py", RECORDING_CLUSTER)))
    )
    assert isinstance(cluster, Cluster) and cluster.name == "recorder"
    assert issubclass(cluster.job_class, ClusterJob) and cluster.job_class is not ClusterJob
    assert cluster.job_class().queue == "long"


def test_a_third_party_package_registers_a_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    dist = site / "fakecluster-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakecluster\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[optima]\nfakecluster = fakecluster_plugin\n")
    (site / "fakecluster_plugin.py").write_text(
        "from optima_core.hookspecs import hookimpl\n"
        "from optima_core.plugins.descriptors import ClusterDescriptor\n\n"
        "@hookimpl\ndef optima_register_clusters():\n"
        "    return [ClusterDescriptor('htcondor_site', 'fakecluster_plugin:Fake', 'a fake batch system')]\n\n"
        "class Fake:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    try:
        descriptor = create_plugin_manager().descriptor("cluster", "htcondor_site")
        assert descriptor.load().__name__ == "Fake"
        assert "fakecluster" in descriptor.provider
    finally:
        sys.modules.pop("fakecluster_plugin", None)


def test_optima_run_submits_to_a_non_local_cluster(tmp_path: Path) -> None:
    cluster_file = _write(tmp_path / "c.py", RECORDING_CLUSTER)
    data = tmp_path / "inputs.parquet"
    data.write_bytes(b"")
    config = _write(
        tmp_path / "run.py",
        f"""
        perform_variable_opt = False
        perform_main_hyperopt = True
        perform_PBT_hyperopt = False
        model_type = "Lightning"
        inputs_file = {str(data)!r}
        input_vars = ["a", "b"]
        path_to_setup_file = "setup.sh"
        search_space = {{"batch_size": 32}}
        """,
    )
    record = tmp_path / "job.json"
    optima = Path(sys.executable).parent / "optima"
    arguments = [str(optima), "run", str(config), "--cluster", "custom", "--cluster_config", str(cluster_file)]
    arguments += ["--name", "myjob", "--fixed_ray_node_size", "--workers", "3", "--cpus_per_worker", "8"]
    arguments += ["--gpus_per_worker", "1", "--runtime", "2.5", "--exclude", "n7", "--cpus_per_trial", "2"]
    result = subprocess.run(
        arguments,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "RECORD_TO": str(record)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "submitted job 77 to cluster 'recorder'; log: logs/myjob.log" in result.stdout
    job = json.loads(record.read_text())
    assert job["type"] == "ClusterJob" and job["queue"] == "long"
    assert (job["name"], job["workers"], job["cpus_per_worker"], job["gpus_per_worker"]) == ("myjob", 3, 8, 1)
    assert (job["fixed_ray_node_size"], job["runtime"], job["exclude"]) == (True, 2.5, "n7")
    assert job["path_to_setup_file"] == str(tmp_path / "setup.sh")
    assert job["run_arguments"]["config"] == str(config) and job["run_arguments"]["cpus_per_trial"] == 2.0
