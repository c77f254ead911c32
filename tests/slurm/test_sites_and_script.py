"""Site tables and batch-script rendering (no SLURM needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from optima_core.clusters.base import ClusterJob, PortRange
from optima_core.config.problems import ConfigError
from optima_core.plugins.manager import create_plugin_manager
from optima_slurm.cluster import SLURMCluster, parse_cpus_per_node
from optima_slurm.sites import builtin_site_files, load_site, site_from_dict

#: (partition, CPUs/node, threads/core, GPUs/node, MB per CPU, Ray temp dir) per site-configs.md
EXPECTED = {
    "romeo": ("romeo", 128, 2, 0, 1972, "/tmp/ray"),
    "barnard": (None, 104, 2, 0, 4800, "/dev/shm/ray"),
    "capella": ("capella", 56, 1, 4, 13400, "/tmp/ray"),
    "capella_mig": ("capella-interactive", 56, 1, 28, 12000, "/tmp/ray"),
}


def test_builtin_sites_hold_the_documented_figures() -> None:
    sites = {site.name: site for site in map(load_site, builtin_site_files())}
    assert set(sites) == set(EXPECTED)
    for name, (partition, cpus, threads, gpus, memory, temp) in EXPECTED.items():
        site = sites[name]
        assert (site.partition, site.cpus_per_node, site.threads_per_core) == (partition, cpus, threads)
        assert (site.gpus_per_node, site.mem_per_cpu, site.ray_temp_dir) == (gpus, memory, temp)
        assert site.account == "materie-09"
        assert site.ports["port"] == PortRange(6379, 1)
        assert site.ports["node_manager_port"] == PortRange(6700, 100)
        assert site.ports["max_worker_port"] == PortRange(10999, 1000)
    assert sites["capella"].registry_file == sites["capella_mig"].registry_file
    assert sites["romeo"].registry_file != sites["barnard"].registry_file


def test_sites_register_as_clusters_and_user_sites_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mine.toml").write_text('name = "mysite"\ncpus_per_node = 8\npartition = "short"\n')
    monkeypatch.setenv("OPTIMA_SLURM_SITES", str(tmp_path))
    clusters = create_plugin_manager().clusters()
    assert {"romeo", "barnard", "capella", "capella_mig", "slurm", "mysite", "local", "custom"} <= set(clusters)
    cluster = clusters["mysite"].load()()
    assert isinstance(cluster, SLURMCluster) and cluster.site.partition == "short"
    generic = clusters["slurm"].load()(cluster_config=str(tmp_path / "mine.toml"))
    assert generic.name == "mysite"
    with pytest.raises(ConfigError, match="needs --cluster_config SITE_FILE"):
        clusters["slurm"].load()()


def test_a_bad_site_names_every_problem() -> None:
    with pytest.raises(ConfigError) as raised:
        site_from_dict(
            {"name": "x", "cpus_per_node": 0, "gpus": 2, "mem_per_cpu": "lots", "ports": {"port": [1]}}, "x.toml"
        )
    text = str(raised.value)
    for fragment in ("cpus_per_node = 0", "gpus: unknown field", "mem_per_cpu = 'lots'", "ports.port = [1]"):
        assert fragment in text
    with pytest.raises(ConfigError, match="ray_temp_dir"):
        site_from_dict({"name": "x", "cpus_per_node": 1, "ray_temp_dir": "/" + "a" * 40}, "x.toml")
    with pytest.raises(ConfigError, match="file not found"):
        load_site("/nonexistent/site.toml")


def _options(script: str) -> list[str]:
    return re.findall(r"^#SBATCH (\S+)$", script, re.M)


def test_fixed_size_job_script(tmp_path: Path) -> None:
    cluster = SLURMCluster(next(load_site(p) for p in builtin_site_files() if p.stem == "capella"))
    setup = tmp_path / "setup env.sh"
    job = ClusterJob(
        name="opt",
        fixed_ray_node_size=True,
        workers=3,
        cpus_per_worker=16,
        gpus_per_worker=2,
        runtime=1.5,
        exclude="c1,c2",
        path_to_setup_file=str(setup),
        log_path="logs/opt.log",
    )
    cluster.check_job(job)
    script = cluster.render_script(job, tmp_path / "opt.job.json")
    options = _options(script)
    for expected in (
        "--job-name=opt",
        "--output=logs/opt.log",
        "--time=1:30:00",
        "--partition=capella",
        "--account=materie-09",
        "--nodes=3",
        "--ntasks-per-node=1",
        "--cpus-per-task=16",
        "--gres=gpu:2",
        "--mem-per-cpu=13400",
        "--exclude=c1,c2",
    ):
        assert expected in options, (expected, options)
    assert "--hint=nomultithread" not in options  # capella has no SMT
    assert f"source '{setup}'" in script
    assert "export RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S=0" in script
    assert re.search(r"^exec python -m optima_slurm.job_main .*opt.job.json$", script, re.M)
    assert "ray stop" not in script  # no global Ray stop in the batch script


def test_cpu_count_job_script_and_overrides(tmp_path: Path) -> None:
    cluster = SLURMCluster(next(load_site(p) for p in builtin_site_files() if p.stem == "barnard"))
    job = ClusterJob(name="cpu", cpus=200, min_cpus_per_ray_node=50, mem_per_cpu=1000, runtime=0.01, log_path="l.log")
    options = _options(cluster.render_script(job, tmp_path / "j.json"))
    assert {"--ntasks=200", "--cpus-per-task=1", "--mincpus=50", "--mem-per-cpu=1000", "--time=0:01:00"} <= set(options)
    assert "--hint=nomultithread" in options and not any(o.startswith("--partition") for o in options)
    assert not any(o.startswith(("--exclude", "--nodes", "--gres")) for o in options)


def test_impossible_jobs_are_rejected_with_every_problem() -> None:
    cluster = SLURMCluster(next(load_site(p) for p in builtin_site_files() if p.stem == "romeo"))
    with pytest.raises(ConfigError) as raised:
        cluster.check_job(ClusterJob(fixed_ray_node_size=True, workers=None, cpus_per_worker=500, runtime=0))
    text = str(raised.value)
    assert "--workers = None" in text and "--cpus_per_worker = 500" in text and "--runtime = 0" in text
    with pytest.raises(ConfigError, match="--gpus_per_worker = 1"):
        cluster.check_job(ClusterJob(fixed_ray_node_size=True, workers=1, cpus_per_worker=4, gpus_per_worker=1))
    with pytest.raises(ConfigError, match="--cpus = None"):
        cluster.check_job(ClusterJob())


def test_cpus_per_node_parsing() -> None:
    assert parse_cpus_per_node("2(x3),1") == [2, 2, 2, 1]
    assert parse_cpus_per_node("128") == [128]
    with pytest.raises(ValueError, match="'x'"):
        parse_cpus_per_node("x")
