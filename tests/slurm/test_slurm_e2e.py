"""End to end on a real SLURM (two fake nodes on this host): submit, 2-node Ray cluster, HPO, COMPLETED; two jobs
at once on distinct ports; ``scancel`` leaves no Ray process behind; a SLURMCluster subclass's overrides run inside
the job."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from slurm_sandbox import Sandbox

#: One SLURM sandbox per test process: every test that submits to it runs in the same one (pytest-xdist group).
pytestmark = [pytest.mark.slow, pytest.mark.overlap, pytest.mark.xdist_group("slurm")]

OPTIMA = [str(Path(sys.executable).parent / "optima")]
DATA = Path(__file__).resolve().parents[2] / "examples" / "data" / "quickstart.parquet"


def hpo_config(folder: Path, num_samples: int, max_epochs: int) -> Path:
    """A tiny Lightning main HPO; a custom metric records the SLURM node each trial ran on."""
    path = folder / "hpo.py"
    path.write_text(
        f"""import os
from pathlib import Path

perform_variable_opt = False
perform_main_hyperopt = True
perform_PBT_hyperopt = False
model_type = "Lightning"
inputs_file = {str(DATA)!r}
input_vars = ["pt_lep1", "pt_lep2", "eta_lep1", "m_ll"]
evaluation_class_labels = ["Signal", "Background"]
output_path = "out"
output_name = "slurm"
max_epochs = {max_epochs}
early_stopping_patience = {max_epochs}
ASHA_grace_period = 1
num_samples_main = {num_samples}
max_num_events = 4000
search_space = {{"batch_size": 256, "num_layers": 1, "units": {{"type": "range", "bounds": [8, 16], "value_type": "int"}},
                "learning_rate": 1e-3}}


def _node(input_batch, y_pred_batch):
    marks = Path({str(folder / "nodes")!r})
    marks.mkdir(exist_ok=True)
    (marks / f"{{os.environ.get('SLURMD_NODENAME', 'unknown')}}-{{os.getpid()}}").touch()
    return 0.0


custom_metrics = [("node", _node)]
"""
    )
    return path


def submit(slurm: Sandbox, folder: Path, *arguments: str, env: dict[str, str] | None = None) -> tuple[str, Path]:
    result = subprocess.run(
        [*OPTIMA, "run", "hpo.py", *arguments, "--runtime", "0.2"],
        cwd=folder,
        capture_output=True,
        text=True,
        env=env or slurm.env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"submitted job (\d+) to cluster '(\w+)'; log: (\S+)", result.stdout)
    assert match, result.stdout
    return match.group(1), folder / match.group(3)


def log_text(log: Path) -> str:
    return log.read_text() if log.exists() else "(no log)"


def ray_processes(temp_dir: str) -> list[str]:
    found = subprocess.run(["pgrep", "-af", temp_dir], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


def site_value(site: Path, key: str) -> str:
    return re.search(rf'^{key} = "([^"]+)"', site.read_text(), re.M).group(1)  # type: ignore[union-attr]


def test_hpo_runs_on_a_two_node_ray_cluster_and_completes(slurm: Sandbox, sandbox_site: Path, tmp_path: Path) -> None:
    hpo_config(tmp_path, num_samples=4, max_epochs=2)
    env = dict(slurm.env, OPTIMA_SLURM_SITES=str(sandbox_site.parent))  # registers the site as 'sandbox'
    job_id, log = submit(
        slurm,
        tmp_path,
        "--cluster",
        "sandbox",
        "--name",
        "e2e",
        "--fixed_ray_node_size",
        "--workers",
        "2",
        "--cpus_per_worker",
        "1",
        env=env,
    )
    assert log == tmp_path / "logs" / "e2e.log"
    state = slurm.wait_for_state(job_id, {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL"}, timeout=240)
    text = log_text(log)
    assert state == "COMPLETED", f"job {job_id} ended {state!r}; log:\n{text[-4000:]}"
    assert "Ray cluster ready: 2 node(s) node1, node2" in text, text[-4000:]
    nodes = {mark.name.split("-")[0] for mark in (tmp_path / "nodes").iterdir()}
    assert nodes == {"node1", "node2"}, f"trials ran on {nodes}"
    output = tmp_path / "out" / "main_slurm"
    assert (output / "main_hyperopt").is_dir() and (output / "optima_run.json").is_file()
    assert "optimization finished" in text and "registry entry released" in text
    assert not ray_processes(f"{site_value(sandbox_site, 'ray_temp_dir')}/{job_id}")


def test_two_jobs_get_distinct_ports_and_scancel_leaves_no_ray_process(
    slurm: Sandbox, sandbox_site: Path, tmp_path: Path
) -> None:
    registry = Path(site_value(sandbox_site, "registry_file"))
    temp_root = site_value(sandbox_site, "ray_temp_dir")
    jobs: dict[str, Path] = {}
    for name in ("first", "second"):
        folder = tmp_path / name
        folder.mkdir()
        hpo_config(folder, num_samples=50, max_epochs=50)  # far longer than the test waits
        job_id, log = submit(
            slurm,
            folder,
            "--cluster",
            "slurm",
            "--cluster_config",
            str(sandbox_site),
            "--name",
            name,
            "--fixed_ray_node_size",
            "--workers",
            "1",
            "--cpus_per_worker",
            "1",
        )
        jobs[job_id] = log
    deadline = time.monotonic() + 120
    entries: dict[str, dict] = {}
    while time.monotonic() < deadline:
        entries = json.loads(registry.read_text())["jobs"] if registry.exists() else {}
        ready = all("Ray cluster ready" in log_text(log) for log in jobs.values())
        if ready and set(jobs) <= set(entries):
            break
        time.sleep(1)
    else:
        pytest.fail(
            f"both jobs did not start their Ray clusters: registry {entries}; logs {[log_text(path)[-1500:] for path in jobs.values()]}"
        )
    first, second = (entries[job] for job in jobs)
    assert first["offset"] != second["offset"]
    assert first["ports"]["port"] != second["ports"]["port"]
    assert first["ports"]["ray_client_server_port"] != second["ports"]["ray_client_server_port"]
    for job_id in jobs:
        assert ray_processes(f"{temp_root}/{job_id}"), f"no Ray process of job {job_id} while it runs"

    assert slurm.run("scancel", *jobs).returncode == 0
    for job_id, log in jobs.items():
        state = slurm.wait_for_state(job_id, {"CANCELLED", "COMPLETED", "FAILED"}, timeout=60)
        assert state == "CANCELLED", f"job {job_id}: {state}; log:\n{log_text(log)[-3000:]}"
    deadline = time.monotonic() + 30
    left: list[str] = []
    while time.monotonic() < deadline:
        left = [p for job_id in jobs for p in ray_processes(f"{temp_root}/{job_id}")]
        if not left:
            break
        time.sleep(1)
    assert not left, f"Ray processes left after scancel: {left}"
    for log in jobs.values():
        assert "received SIGTERM" in log_text(log), log_text(log)[-3000:]


def test_a_ray_head_that_cannot_start_is_reported(slurm: Sandbox, sandbox_site: Path, tmp_path: Path) -> None:
    with socket.socket() as blocker:  # the job's GCS port is taken: 'ray start --head' must fail
        blocker.bind(("0.0.0.0", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        text = re.sub(r"^port = \[\d+, 1\]$", f"port = [{port}, 0]", sandbox_site.read_text(), flags=re.M)
        text = text.replace('name = "sandbox"', 'name = "blocked"')
        site = tmp_path / "blocked.toml"
        site.write_text(text)
        hpo_config(tmp_path, num_samples=1, max_epochs=1)
        job_id, log = submit(
            slurm,
            tmp_path,
            "--cluster",
            "slurm",
            "--cluster_config",
            str(site),
            "--name",
            "blocked",
            "--fixed_ray_node_size",
            "--workers",
            "1",
            "--cpus_per_worker",
            "1",
        )
        state = slurm.wait_for_state(job_id, {"COMPLETED", "FAILED", "CANCELLED"}, timeout=90)
    assert state == "FAILED", f"{state}: {log_text(log)[-3000:]}"
    assert "ERROR: the Ray head on node1 cannot start: its port" in log_text(log), log_text(log)[-3000:]


#: A ``--cluster custom`` file: a SLURMCluster subclass whose overrides leave traces, one at construction (only at
#: submission: inside the job the submitted object is restored, not rebuilt) and one when the job starts the Ray head.
TRACING_CLUSTER = """
import os
from pathlib import Path
from optima_slurm import SLURMCluster, load_site

TRACES = Path({traces!r})


class CustomCluster(SLURMCluster):
    def __init__(self):
        super().__init__(load_site({site!r}))
        self.submitted_by = os.getpid()
        (TRACES / f"init-{{os.getpid()}}").touch()

    def start_ray_head(self, node, ports, cpus, gpus, temp_dir):
        (TRACES / f"head-{{os.environ['SLURM_JOB_ID']}}-{{node}}-from-{{self.submitted_by}}").touch()
        return super().start_ray_head(node, ports, cpus, gpus, temp_dir)
"""


def test_a_slurm_cluster_subclass_runs_its_overrides_inside_the_job(
    slurm: Sandbox, sandbox_site: Path, tmp_path: Path
) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    cluster_file = tmp_path / "tracing_cluster.py"
    cluster_file.write_text(TRACING_CLUSTER.format(traces=str(traces), site=str(sandbox_site)))
    hpo_config(tmp_path, num_samples=1, max_epochs=1)
    job_id, log = submit(
        slurm,
        tmp_path,
        "--cluster",
        "custom",
        "--cluster_config",
        str(cluster_file),
        "--name",
        "traced",
        "--fixed_ray_node_size",
        "--workers",
        "1",
        "--cpus_per_worker",
        "1",
    )
    state = slurm.wait_for_state(job_id, {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL"}, timeout=240)
    assert state == "COMPLETED", f"job {job_id} ended {state!r}; log:\n{log_text(log)[-4000:]}"
    (init,) = [t.name for t in traces.iterdir() if t.name.startswith("init-")]  # built once, at submission
    submitter = init.removeprefix("init-")
    assert {t.name for t in traces.iterdir()} == {init, f"head-{job_id}-node1-from-{submitter}"}
    assert (tmp_path / "out" / "main_slurm" / "main_hyperopt").is_dir()
    assert not list(tmp_path.glob("slurm-*.out"))
