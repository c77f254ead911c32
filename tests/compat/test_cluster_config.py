"""A cluster config written for the original (a ``CustomCluster`` subclassing ``OPTIMA.hardware_configs.common.
SLURMCluster``) runs with ``optima run --cluster custom``: the class is our SLURM cluster, its attributes make the
site, and the job is submitted (to a stand-in ``sbatch``) with the partition and account its ``submit_job`` sets."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_helpers import CliOutcome, ConfigWriter

pytest.importorskip("optima_slurm")

CLUSTER_CONFIG = """
from typing import Optional

from OPTIMA.hardware_configs.common import SLURMCluster


class CustomCluster(SLURMCluster):
    cpus_per_node = 48
    gpus_per_node = 0
    mem_per_cpu = 2500
    threads_per_cpu_core = 2
    SMT_included_in_reservation = False
    ray_headnodes_path = "{registry}"
    ray_temp_path = "/tmp/ray_site"

    def get_ports(self) -> dict[str, tuple[int, int]]:
        return {{"port": (7379, 1), "node_manager_port": (7700, 100)}}

    def submit_job(self, job, job_file_path: str, dry_run: bool = False) -> None:
        job.partition = "haswell"
        job.account = "p_physics"
        job.use_SMT = False
        super().submit_job(job, job_file_path, dry_run)

    def _execute_single_cmd(self, cmd: str, cpus: Optional[int] = None, node: Optional[str] = None) -> str:
        return super()._execute_single_cmd(cmd=cmd, cpus=cpus, node=node, overcommit=True)
"""


@pytest.fixture
def cluster_config(tmp_path: Path) -> Path:
    path = tmp_path / "my_cluster.py"
    path.write_text(textwrap.dedent(CLUSTER_CONFIG.format(registry=tmp_path / "heads" / "running.pickle")))
    return path


def test_the_class_resolves_to_our_slurm_cluster_with_its_site(cluster_config: Path, tmp_path: Path) -> None:
    from optima_core.clusters.custom import custom_cluster
    from optima_slurm.cluster import SLURMCluster

    cluster = custom_cluster(cluster_config)
    assert isinstance(cluster, SLURMCluster) and type(cluster).__name__ == "CustomCluster"
    site = cluster.site
    assert (site.cpus_per_node, site.mem_per_cpu, site.threads_per_core, site.ray_temp_dir) == (
        48,
        2500,
        2,
        "/tmp/ray_site",
    )
    assert site.srun_overcommit is True
    assert site.registry_file == str(tmp_path / "heads" / "running.json")  # JSON, beside the original's pickle
    ports = cluster.ports_for_offset(2)
    assert (ports["port"], ports["node_manager_port"], ports["min_worker_port"]) == (7381, 7900, 12002)


def test_optima_run_submits_it_with_the_jobs_settings(
    cluster_config: Path,
    write_config: ConfigWriter,
    optima_run: Callable[..., CliOutcome],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from optima_core.clusters.handover import read_job_file

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sbatch = bin_dir / "sbatch"
    sbatch.write_text('#!/bin/sh\ncp "$2" "$(dirname "$2")/submitted.sbatch"\necho 4242\n')
    sbatch.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path('/usr/bin')}:{Path('/bin')}")
    monkeypatch.chdir(tmp_path)
    config = write_config("Lightning")

    outcome = optima_run(config, "--cluster", "custom", "--cluster_config", str(cluster_config), "--runtime", "2")
    assert outcome.exit_code == 0, outcome.describe()
    assert "submitted job 4242 to cluster 'CustomCluster'" in outcome.output

    script = (tmp_path / "logs" / "submitted.sbatch").read_text()
    for option in ("--partition=haswell", "--account=p_physics", "--mem-per-cpu=2500", "--time=2:00:00"):
        assert f"#SBATCH {option}\n" in script, script
    (job_file,) = (tmp_path / "logs").glob("*.job.json")
    cluster, job = read_job_file(job_file)  # what the job itself rebuilds
    assert type(cluster).__name__ == "CustomCluster" and cluster.site.account == "p_physics"
    assert (type(job).__name__, job.partition, job.use_SMT) == ("SLURMClusterJob", "haswell", False)
