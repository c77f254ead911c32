"""The job file hands the very cluster that submitted a job to the job: its class (a subclass, a CustomCluster from a
``--cluster_config`` file), its attributes, and the job's own ``ClusterJob`` class (no SLURM needed)."""

from __future__ import annotations

import json
import textwrap
import threading
from pathlib import Path

import pytest

from optima_core.clusters.base import ClusterJob
from optima_core.clusters.custom import custom_cluster
from optima_core.clusters.handover import read_job_file, write_job_file
from optima_core.config.problems import ConfigError
from optima_slurm.cluster import SLURMCluster
from optima_slurm.sites import builtin_site_files, load_site

#: A CustomCluster as the README describes it: a SLURMCluster subclass built without arguments, with its own job class.
CUSTOM_SLURM = """
import os
from dataclasses import dataclass
from optima_core.clusters.base import ClusterJob as BaseJob
from optima_slurm import SLURMCluster, load_site


@dataclass
class ClusterJob(BaseJob):
    queue: str = "long"


class CustomCluster(SLURMCluster):
    def __init__(self):
        super().__init__(load_site({site!r}))
        self.built_in = os.getpid()

    def nodes(self):
        return ["{marker}"]
"""


def romeo() -> SLURMCluster:
    return SLURMCluster(next(load_site(p) for p in builtin_site_files() if p.stem == "romeo"))


def test_a_slurm_cluster_comes_back_as_itself(tmp_path: Path) -> None:
    cluster = romeo()
    job = ClusterJob(name="opt", cpus=4, run_arguments={"config": "/x/run.py"})
    job_file = tmp_path / "opt.job.json"
    write_job_file(job_file, cluster, job)
    spec = json.loads(job_file.read_text())
    assert (spec["cluster"]["class"], spec["cluster"]["source"]) == ("optima_slurm.cluster:SLURMCluster", None)
    assert spec["job"]["class"] == "optima_core.clusters.base:ClusterJob" and spec["job"]["values"]["cpus"] == 4
    rebuilt, rebuilt_job = read_job_file(job_file)
    assert type(rebuilt) is SLURMCluster and rebuilt.site == cluster.site and rebuilt.name == "romeo"
    assert rebuilt_job == job


def test_a_custom_cluster_file_runs_its_overrides_in_the_job(tmp_path: Path) -> None:
    site = next(p for p in builtin_site_files() if p.stem == "barnard")
    source = tmp_path / "mycluster.py"
    source.write_text(textwrap.dedent(CUSTOM_SLURM.format(site=str(site), marker="submitted-version")))
    cluster = custom_cluster(source)
    job = cluster.job_class(name="opt", cpus=2, queue="short")
    job_file = tmp_path / "opt.job.json"
    write_job_file(job_file, cluster, job)
    # Edited after submission: the job still runs the submitted code (its snapshot).
    source.write_text(CUSTOM_SLURM.format(site=str(site), marker="edited-later"))

    spec = json.loads(job_file.read_text())
    snapshot = Path(spec["cluster"]["source"])
    assert spec["cluster"]["class"].endswith(":CustomCluster") and snapshot.parent == tmp_path
    assert spec["job"]["class"].endswith(":ClusterJob") and spec["job"]["source"] == str(snapshot)
    rebuilt, rebuilt_job = read_job_file(job_file)
    assert type(rebuilt).__name__ == "CustomCluster" and isinstance(rebuilt, SLURMCluster)
    assert rebuilt.nodes() == ["submitted-version"]  # the override, not SLURM's node list
    assert rebuilt.site.name == "barnard" and rebuilt.built_in == cluster.built_in  # type: ignore[attr-defined]
    assert type(rebuilt_job).__name__ == "ClusterJob" and rebuilt_job.queue == "short"  # type: ignore[attr-defined]
    assert rebuilt_job.as_dict() == job.as_dict()
    assert rebuilt.job_class is type(rebuilt_job)  # an override reading self.job_class in the job sees the file's


def test_a_cluster_whose_attributes_cannot_travel_is_named(tmp_path: Path) -> None:
    cluster = romeo()
    cluster.lock = threading.Lock()  # type: ignore[attr-defined]
    with pytest.raises(ConfigError) as raised:
        write_job_file(tmp_path / "j.job.json", cluster, ClusterJob(cpus=1))
    assert str(raised.value).startswith("The cluster 'romeo' (optima_slurm.cluster:SLURMCluster) has 1 problem:")
    assert "- attribute lock = <unlocked _thread.lock" in str(raised.value)
    assert "expected a value the job can receive (pickle: cannot pickle '_thread.lock' object)" in str(raised.value)


def test_the_job_runs_the_run_config_as_it_was_submitted(tmp_path: Path) -> None:
    from optima_core.clusters.target import RunRequest
    from optima_core.config.loader import load_run_config
    from optima_slurm.job_main import submitted_run_config

    config = tmp_path / "run_config.py"
    config.write_text("inputs_file = 'events.parquet'\nmax_epochs = 7\n")
    run_config = load_run_config(config)
    arguments = dict.fromkeys(
        ("cpus_per_trial", "gpus_per_trial", "frac_cpus_reserved", "max_pending_trials", "resume", "defaults"),
    ) | dict(
        name="opt", workers=1, cpus=2, cpus_per_worker=2, gpus_per_worker=0, min_cpus_per_ray_node=None,
        fixed_ray_node_size=False, mem_per_cpu=None, runtime="00:10:00", exclude=None, cluster="barnard",
        cluster_config=None,
    )  # fmt: skip
    site = next(p for p in builtin_site_files() if p.stem == "barnard")
    cluster = SLURMCluster(load_site(site))
    job = cluster.job_for(RunRequest(run_config, None, config, arguments, report=print))  # type: ignore[arg-type]
    config.write_text("inputs_file = 'events.parquet'\nmax_epochs = 99\n")  # edited while the job waits

    assert submitted_run_config(job.run_arguments).max_epochs == 7
