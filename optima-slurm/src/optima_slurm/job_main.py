"""The launcher inside a SLURM allocation: ``python -m optima_slurm.job_main JOB_FILE``.

1. take a port offset from the site's job registry (so concurrent jobs never share Ray ports), and create the job's
   Ray authentication token (a file next to the job file, readable by the user only, removed at the end);
2. start the Ray head on the job's first node and a Ray worker on every other node, each as a background
   ``srun --overlap ... ray start --block`` step;
3. wait until every node has joined Ray (a node that exits or does not join in time is named in the log);
4. run the optimization in this (the batch) step, connected to that Ray cluster, while watching the Ray nodes;
5. stop the Ray steps by their srun PIDs and release the registry entry, also on SIGTERM (``scancel``, time limit).
Never Ray's global stop command: it would kill every Ray process on the node, other jobs' included.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from optima_core.clusters.handover import read_job_file
from optima_core.clusters.local import ResourcePlan, ResourceRequest, derive_plan
from optima_core.engine.interruption import RunInterrupted
from optima_slurm.cluster import SLURMCluster
from optima_slurm.registry import JobRegistry

NODE_TIMEOUT_ENV = "OPTIMA_SLURM_NODE_TIMEOUT"
TOKEN_SUFFIX = ".ray_token"


def log(message: str) -> None:
    print(f"[optima-slurm {time.strftime('%H:%M:%S')}] {message}", flush=True)


class LaunchError(RuntimeError):
    """The Ray cluster of the job could not be built."""


def _terminate(_signum: int, _frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log("received SIGTERM (scancel or time limit): stopping the optimization and the Ray nodes")
    raise SystemExit(143)


def wait_for_head(host: str, port: int, step: subprocess.Popen[bytes], node: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if step.poll() is not None:
            raise LaunchError(
                f"the Ray head on {node} failed to start: 'ray start --head' exited with {step.returncode}"
            )
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise LaunchError(f"the Ray head on {node} did not open port {host}:{port} within {timeout:.0f} s")


def check_ports_free(node: str, ports: dict[str, int]) -> None:
    """The head's fixed ports must be free on this (the head) node, else another program or Ray cluster holds them."""
    for name in ("port", "ray_client_server_port"):
        if not ports.get(name):
            continue
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no conflict; a listener is
            try:
                probe.bind(("", ports[name]))
            except OSError as error:
                raise LaunchError(
                    f"the Ray head on {node} cannot start: its {name} {ports[name]} is already in use ({error}); "
                    "another program or a job missing from the registry holds it"
                ) from error


def wait_for_nodes(ray: Any, steps: dict[str, subprocess.Popen[bytes]], timeout: float) -> None:
    """Wait until every node's Ray node is alive; name the nodes that failed or did not join."""
    deadline = time.monotonic() + timeout
    missing: list[str] = list(steps)
    while time.monotonic() < deadline:
        alive = {
            key.split(":", 1)[1]
            for n in ray.nodes()
            if n["Alive"]
            for key in n["Resources"]
            if key.startswith("optima_node:")
        }
        missing = [node for node in steps if node not in alive]
        if not missing:
            return
        failed = [f"{node} (exit code {steps[node].returncode})" for node in missing if steps[node].poll() is not None]
        if failed:
            raise LaunchError(f"the Ray node(s) on {', '.join(failed)} failed to start; see their output above")
        time.sleep(1)
    raise LaunchError(
        f"the Ray node(s) on {', '.join(missing)} did not join the Ray cluster within {timeout:.0f} s "
        f"(raise {NODE_TIMEOUT_ENV} if nodes start slowly)"
    )


class NodeWatcher(threading.Thread):
    """Report every Ray node step that ends while the optimization runs."""

    def __init__(self, steps: dict[str, subprocess.Popen[bytes]]) -> None:
        super().__init__(daemon=True)
        self.steps = steps
        self.stopping = threading.Event()
        self.reported: set[str] = set()

    def run(self) -> None:
        while not self.stopping.wait(2):
            for node, step in self.steps.items():
                if node not in self.reported and step.poll() is not None:
                    self.reported.add(node)
                    log(
                        f"ERROR: the Ray node on {node} died during the run (srun exited with {step.returncode}); "
                        "its trials fail or are retried on the remaining nodes"
                    )


def stop_steps(steps: dict[str, subprocess.Popen[bytes]], grace: float = 20) -> None:
    """SIGTERM each srun (workers first, the head last), then SIGKILL what is left after ``grace`` seconds."""
    for node in reversed(list(steps)):
        if steps[node].poll() is None:
            steps[node].terminate()
    deadline = time.monotonic() + grace
    for node, step in steps.items():
        try:
            step.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"the Ray step on {node} did not stop within {grace:.0f} s; killing its srun (pid {step.pid})")
            step.kill()


def create_job_token(job_file: Path) -> Path:
    """A new random Ray token for this job, in a file next to ``job_file`` (on the file system every node shares),
    mode 0600; ``RAY_AUTH_TOKEN_PATH`` points the Ray nodes this process starts, and the driver, to it."""
    path = job_file.with_name(job_file.name.removesuffix(".job.json") + TOKEN_SUFFIX)
    path.unlink(missing_ok=True)  # of an earlier attempt of a requeued job
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32))
    os.environ["RAY_AUTH_TOKEN_PATH"] = str(path)
    return path


def plan_for(resources: dict[str, float], arguments: dict[str, Any]) -> ResourcePlan:
    """Concurrency from the resources of the whole Ray cluster (the local plan's rules)."""
    request = ResourceRequest(
        cpus_per_trial=arguments["cpus_per_trial"],
        gpus_per_trial=arguments["gpus_per_trial"],
        frac_cpus_reserved=arguments["frac_cpus_reserved"],
        max_pending_trials=arguments["max_pending_trials"],
    )
    return derive_plan(int(resources.get("CPU", 0)), int(resources.get("GPU", 0)), request)


def submitted_run_config(arguments: dict[str, Any]) -> Any:
    """The run-config as it was when the job was submitted (its text travels in the job file), not the file now."""
    from optima_core.config.loader import load_run_config

    return load_run_config(
        Path(arguments["config"]),
        arguments["defaults"],
        text=arguments.get("config_text"),
        defaults_text=arguments.get("defaults_text"),
    )


def optimize(address: str, ray: Any, arguments: dict[str, Any]) -> None:
    from optima_core.config.validation import check
    from optima_core.engine.orchestrator import RunOptions, run
    from optima_core.logs import configure_console
    from optima_core.plugins.manager import create_plugin_manager

    configure_console(0)  # the job's log shows the INFO lines, as `optima run` does by default
    run_config = submitted_run_config(arguments)
    manager = create_plugin_manager(run_config_module=run_config.module)
    check(run_config, manager)
    plan = plan_for(ray.cluster_resources(), arguments)
    log(f"running {arguments['config']} on the Ray cluster at {address}: {plan.describe()}")
    run(run_config, manager, plan, RunOptions(resume=arguments["resume"], address=address))


def main(argv: list[str]) -> int:
    cluster, job = read_job_file(argv[0])
    if not isinstance(cluster, SLURMCluster):
        raise TypeError(f"the job file {argv[0]} holds a {type(cluster).__name__}: expected a SLURMCluster (subclass)")
    signal.signal(signal.SIGTERM, _terminate)
    job_id, nodes = cluster.job_id(), cluster.nodes()
    cpus = cluster.cpus_per_node()
    registry = JobRegistry(cluster.site.registry_file, cluster.max_concurrent_jobs(), cluster.is_job_running)
    offset = registry.allocate(job_id, {"nodes": nodes, "name": job.name})
    ports = cluster.ports_for_offset(offset)
    registry.update(job_id, ports=ports, head=nodes[0])
    temp_dir = f"{cluster.site.ray_temp_dir.rstrip('/')}/{job_id}"
    log(f"job {job_id} on {', '.join(nodes)}; port offset {offset}: {json.dumps(ports)}; Ray temp dir {temp_dir}")
    steps: dict[str, subprocess.Popen[bytes]] = {}
    watcher = NodeWatcher(steps)
    timeout = float(os.environ.get(NODE_TIMEOUT_ENV, "180"))
    ray: Any = None
    token: Path | None = None
    os.environ.setdefault("MPLCONFIGDIR", f"{temp_dir}/mpl")  # the matplotlib cache of every process, not in ~
    try:
        token = create_job_token(Path(argv[0]))
        gpus = job.gpus_per_worker or 0
        node_cpus = {
            n: (job.cpus_per_worker if job.fixed_ray_node_size and job.cpus_per_worker else cpus[n]) for n in nodes
        }
        head = nodes[0]
        address = f"{cluster.node_ip(head)}:{ports['port']}"
        check_ports_free(head, ports)
        log(f"starting the Ray head on {head} ({address}, {node_cpus[head]} CPUs, {gpus} GPUs)")
        steps[head] = cluster.start_ray_head(head, ports, node_cpus[head], gpus, temp_dir)
        wait_for_head(address.rsplit(":", 1)[0], ports["port"], steps[head], head, timeout)
        for node in nodes[1:]:
            log(f"starting a Ray worker on {node} ({node_cpus[node]} CPUs, {gpus} GPUs)")
            steps[node] = cluster.start_ray_worker(node, address, ports, node_cpus[node], gpus, temp_dir)
        from optima_core.engine.ray_session import connect

        ray = connect(address)
        signal.signal(signal.SIGTERM, _terminate)  # ray.init installs a handler that would abort without clean-up
        wait_for_nodes(ray, steps, timeout)
        log(f"Ray cluster ready: {len(nodes)} node(s) {', '.join(nodes)}; resources {ray.cluster_resources()}")
        watcher.start()
        try:
            optimize(address, ray, job.run_arguments)
        except RunInterrupted as stop:  # the run turns SIGTERM into RunInterrupted once it has saved its state
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            log(
                f"received {stop.signal_name} (scancel or time limit): the optimization saved what finished "
                "(continue it with --resume); stopping the Ray nodes"
            )
            return stop.exit_code
        log("optimization finished")
        return 0
    except LaunchError as error:
        log(f"ERROR: {error}")
        return 1
    finally:
        watcher.stopping.set()
        if ray is not None and ray.is_initialized():
            ray.shutdown()
        log("stopping the Ray nodes")
        stop_steps(steps)
        registry.release(job_id)
        if token is not None:
            token.unlink(missing_ok=True)
        log("Ray nodes stopped; registry entry released")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
