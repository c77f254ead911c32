"""Start (or join) the Ray instance a run uses, and shut down only what this process started.

Never use Ray's global stop command: it kills every Ray process on the machine, other users' runs included.

Security: a local instance listens on the loopback address only (its driver, GCS, raylet, agents and workers), so
it needs no authentication and writes no token file into ``~``. A Ray cluster that spans nodes (``--address``, a
SLURM job) is joined with Ray's token authentication (``RAY_AUTH_MODE=token`` and the cluster's token in
``RAY_AUTH_TOKEN_PATH`` or ``RAY_AUTH_TOKEN``). Each run keeps its temporary files in a private folder
(``/tmp/optima-ray-<pid>``, mode 0700: Ray makes its own temp folder world-writable), which also holds the
matplotlib cache of the run unless ``MPLCONFIGDIR`` is set, and removes that folder when the session ends.

``ray.init`` installs a SIGTERM handler of its own in the driver; the run's handling of Ctrl-C and SIGTERM
(:mod:`optima_core.engine.interruption`) is put back right after it, so a stopped run still shuts Ray down here.

:func:`ray_session_in_background` starts a session in a thread (``optima run`` loads its inputs meanwhile); Ray
then installs no SIGTERM handler at all, and the run's own handling stays in place.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from optima_core.clusters.local import ResourcePlan
from optima_core.engine.interruption import reclaim_signals
from optima_core.errors import OptimaUserError

#: Environment every Ray process of a run gets: no usage reporting, quiet TF and Tune.
RAY_ENVIRONMENT = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "RAY_DEDUP_LOGS": "1",
    "RAY_AIR_NEW_OUTPUT": "0",
    "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::FutureWarning",
}
#: Added for a local instance: it is reachable from this machine only, so a token (a file in ~/.ray) is not needed.
LOCAL_AUTH_MODE = "disabled"
#: The authentication a run that joins a cluster uses unless ``RAY_AUTH_MODE`` says otherwise.
CLUSTER_AUTH_MODE = "token"
#: Where Ray looks for a token when neither RAY_AUTH_TOKEN nor RAY_AUTH_TOKEN_PATH is set.
DEFAULT_TOKEN_FILE = Path("~/.ray/auth_token")


def short_temp_dir() -> str:
    """The run's private temp folder; short enough for Ray's Unix sockets below it (107-byte limit)."""
    base = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
    return str(Path(base) / f"optima-ray-{os.getpid()}")


@contextmanager
def _environment(extra: dict[str, str]) -> Iterator[dict[str, str]]:
    """OPTIMA's Ray environment in ``os.environ`` (values the user exported win) for the block; yields it for the
    job's ``runtime_env``. What it added is removed again at the end, so a later run of the process starts clean."""
    wanted = {**RAY_ENVIRONMENT, **extra}
    added = [key for key in wanted if key not in os.environ]
    os.environ.update({key: wanted[key] for key in added})
    try:
        yield {key: os.environ[key] for key in wanted}
    finally:
        for key in added:
            os.environ.pop(key, None)


def check_cluster_token(address: str) -> None:
    """Joining ``address`` needs token authentication, and the token must be there; anything else is refused."""
    mode = os.environ.get("RAY_AUTH_MODE", CLUSTER_AUTH_MODE)
    if mode != CLUSTER_AUTH_MODE:
        raise OptimaUserError(
            f"RAY_AUTH_MODE = {mode!r}: expected {CLUSTER_AUTH_MODE!r}; OPTIMA joins Ray clusters (--address) only "
            "with token authentication, since anyone who reaches an open cluster's ports can run code in it"
        )
    token_path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if token_path and not Path(token_path).is_file():
        raise OptimaUserError(f"RAY_AUTH_TOKEN_PATH = {token_path!r}: expected the token file of the Ray cluster")
    if not (token_path or os.environ.get("RAY_AUTH_TOKEN") or DEFAULT_TOKEN_FILE.expanduser().is_file()):
        raise OptimaUserError(
            f"--address {address}: OPTIMA joins Ray clusters with token authentication, and no token was given; "
            "set RAY_AUTH_TOKEN_PATH to the token file the cluster was started with (RAY_AUTH_MODE=token)"
        )


def connect(address: str) -> Any:
    """Join the Ray cluster at ``address`` (token authentication) with OPTIMA's environment; returns ``ray``.

    The environment stays set for the rest of the process (a SLURM job's driver imports TensorFlow later).
    """
    check_cluster_token(address)
    wanted = {**RAY_ENVIRONMENT, "RAY_AUTH_MODE": CLUSTER_AUTH_MODE}
    for key, value in wanted.items():
        os.environ.setdefault(key, value)
    env_vars = {key: os.environ[key] for key in [*wanted, "MPLCONFIGDIR"] if key in os.environ}
    import ray

    ray.init(address=address, runtime_env={"env_vars": env_vars}, log_to_driver=False)
    return ray


@contextmanager
def _loopback_only() -> Iterator[None]:
    """Make ``ray.init`` start every process of a new local instance on 127.0.0.1 only.

    Ray binds its servers to all interfaces unless the node's address is the loopback address, and it resolves a
    given loopback ``_node_ip_address`` to the machine's external address unless its cluster support is switched
    off (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read once when Ray is imported), hence the module switch.
    """
    from ray._private import ray_constants

    before = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = before


@contextmanager
def private_run_folder() -> Iterator[Path]:
    """The run's private temp folder (mode 0700), removed with everything in it when the block ends."""
    folder = Path(short_temp_dir())
    folder.mkdir(mode=0o700, exist_ok=True)  # a folder of a dead process with this pid is taken over
    folder.chmod(0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def ray_session(plan: ResourcePlan, address: str | None = None) -> Iterator[Any]:
    """A Ray connection for the duration of a run: a new local instance sized by ``plan``, or ``address``.

    The run's environment is set before Ray is imported (about a second, in the background while the inputs load):
    the side process of the input plots, started as soon as the inputs are loaded, needs ``MPLCONFIGDIR``.
    """
    loaded = sys.modules.get("ray")
    if loaded is not None and loaded.is_initialized():
        yield loaded
        return
    with private_run_folder() as folder:
        extra = {"MPLCONFIGDIR": str(folder / "mpl")}
        if not address:
            extra["RAY_AUTH_MODE"] = LOCAL_AUTH_MODE
        with _environment(extra) as env_vars:
            import ray

            try:
                if address:
                    connect(address)
                else:
                    start_local(plan, folder, env_vars)
                reclaim_signals()
                yield ray
            finally:
                ray.shutdown()


def start_local(plan: ResourcePlan, folder: Path, env_vars: dict[str, str]) -> None:
    """A new Ray instance on this machine, sized by ``plan``, listening on 127.0.0.1 only."""
    import ray

    kwargs: dict[str, Any] = {
        "num_cpus": plan.cpus,
        "num_gpus": plan.gpus,
        "include_dashboard": False,
        "logging_level": logging.WARNING,
        "log_to_driver": False,
        "runtime_env": {"env_vars": env_vars},
        "_temp_dir": plan.temp_dir or str(folder / "r"),
        "_node_ip_address": "127.0.0.1",
        # Ray starts one idle worker per CPU for the first driver. Tune's trial actors never take them: Ray hands an
        # idle worker only to work of the same runtime environment, and Tune gives its actors one of their own
        # (PL_DISABLE_FORK=1), besides the job's. ~1.5 CPU-s each at the start, for nothing.
        "_system_config": {"prestart_worker_first_driver": False},
    }
    if plan.memory_mb:
        kwargs["_memory"] = int(plan.memory_mb * 1024 * 1024)
    with _loopback_only(), _without_cluster_monitors():
        ray.init(**kwargs)


@contextmanager
def _without_cluster_monitors() -> Iterator[None]:
    """Make ``ray.init`` start a new local instance without the processes a run's own instance never uses.

    They are the autoscaler's monitor (the instance never scales), the log monitor (worker logs are not streamed to
    the driver: ``log_to_driver=False``) and the API server that ``include_dashboard=False`` still starts for the
    job and state APIs (a run submits no jobs; Ray Tune does not use them). Together about 270 MB of the run's
    memory. ``ray.init`` has no argument for them (``ray start`` has ``--no-monitor``); its head node takes them
    from its ``RayParams`` and starts the API server itself, hence the wrappers around the node.
    """
    from ray._private import node as ray_node

    original_init, original_api_server = ray_node.Node.__init__, ray_node.Node.start_api_server

    def without_monitors(self: Any, ray_params: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("head", args[0] if args else False):
            ray_params.no_monitor = True
            ray_params.include_log_monitor = False
        original_init(self, ray_params, *args, **kwargs)

    def without_api_server(self: Any, **kwargs: Any) -> None:
        self._webui_url = None

    ray_node.Node.__init__ = without_monitors  # type: ignore[method-assign]
    ray_node.Node.start_api_server = without_api_server  # type: ignore[method-assign]
    try:
        yield
    finally:
        ray_node.Node.__init__ = original_init  # type: ignore[method-assign]
        ray_node.Node.start_api_server = original_api_server  # type: ignore[method-assign]


class _NotMainThreadNote(logging.Filter):
    """Drop Ray's warning that a ``ray.init`` outside the main thread sets no SIGTERM handler (that is wanted)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "SIGTERM handler is not set" not in record.getMessage()


def _enter_quietly(session: AbstractContextManager[Any]) -> Any:
    ray_logger = logging.getLogger("ray._private.worker")
    note = _NotMainThreadNote()
    ray_logger.addFilter(note)
    try:
        return session.__enter__()
    finally:
        ray_logger.removeFilter(note)


@contextmanager
def ray_session_in_background(session: AbstractContextManager[Any]) -> Iterator[Callable[[], Any]]:
    """Enter ``session`` (a :func:`ray_session`) in a thread at once; yields ``wait()``, which returns what the
    session gives (``ray``) once it has started, or raises why it could not. The session ends with the block, after
    its start has finished (also when the block fails before waiting).

    The thread lives until the session has ended: Ray starts its GCS and raylet with ``PR_SET_PDEATHSIG``, which
    kills them when the *thread* that started them ends, not the process.
    """
    started, finish = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def start_and_hold() -> None:
        try:
            outcome["value"] = _enter_quietly(session)
        except BaseException as error:  # noqa: BLE001 - raised by wait(), in the thread that waits
            outcome["error"] = error
            return
        finally:
            started.set()
        finish.wait()

    thread = threading.Thread(target=start_and_hold, name="optima-ray-start", daemon=True)
    thread.start()

    def wait() -> Any:
        started.wait()
        if "error" in outcome:
            raise outcome["error"]
        reclaim_signals()
        return outcome["value"]

    try:
        yield wait
    finally:
        started.wait()
        try:
            if "error" not in outcome:
                session.__exit__(*sys.exc_info())
        finally:
            finish.set()
            thread.join()
