"""Ray token authentication of multi-node runs (issue 13, defect 5): the job's token and joining with it.

The token file is checked at unit level; a real ``ray start --head`` with token authentication on this machine
shows that :func:`optima_core.engine.ray_session.connect` joins with the token and is refused without it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from optima_slurm.cluster import RAY_NODE_ENV
from optima_slurm.job_main import create_job_token


def test_each_job_gets_its_own_token_file_readable_by_the_user_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
    old_umask = os.umask(0o000)  # a permissive umask must not widen the token's mode
    try:
        first = create_job_token(tmp_path / "opt.1a2b3c4d.job.json")
        second = create_job_token(tmp_path / "opt.5e6f7a8b.job.json")
    finally:
        os.umask(old_umask)
    assert first.name == "opt.1a2b3c4d.ray_token"
    for token in (first, second):
        assert stat.S_IMODE(token.stat().st_mode) == 0o600
        assert len(token.read_text()) == 64 and int(token.read_text(), 16) >= 0
    assert first.read_text() != second.read_text()
    assert os.environ["RAY_AUTH_TOKEN_PATH"] == str(second)  # the nodes this process starts and the driver use it
    assert not str(first).startswith(str(Path.home() / ".ray"))


def test_a_requeued_job_replaces_the_token_of_its_earlier_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
    stale = tmp_path / "opt.1a2b3c4d.ray_token"
    stale.write_text("old")
    stale.chmod(0o644)
    token = create_job_token(tmp_path / "opt.1a2b3c4d.job.json")
    assert token.read_text() != "old" and stat.S_IMODE(token.stat().st_mode) == 0o600


def test_the_ray_nodes_of_a_job_use_token_authentication() -> None:
    assert RAY_NODE_ENV["RAY_AUTH_MODE"] == "token"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


JOIN = """
import sys
from optima_core.engine.ray_session import connect
ray = connect(sys.argv[1])
print("CPUS", ray.cluster_resources().get("CPU"))
ray.shutdown()
"""


@pytest.mark.slow
@pytest.mark.overlap
def test_connect_joins_a_token_cluster_with_the_token_and_is_refused_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ray_bin = Path(sys.executable).parent / "ray"
    temp_dir = tempfile.mkdtemp(prefix="optima-tk-", dir="/tmp")
    monkeypatch.delenv("RAY_AUTH_TOKEN_PATH", raising=False)  # restored after the test
    token = create_job_token(tmp_path / "join.job.json")
    port = _free_port()
    env = {**os.environ, **RAY_NODE_ENV, "RAY_AUTH_TOKEN_PATH": str(token)}
    env.pop("RAY_AUTH_TOKEN", None)
    head = subprocess.Popen(
        [str(ray_bin), "start", "--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false", "--block",
         "--disable-usage-stats", f"--temp-dir={temp_dir}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            assert head.poll() is None, "ray start --head ended"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the Ray head did not open its port"
                time.sleep(0.5)
        address = f"127.0.0.1:{port}"
        joined = subprocess.run(
            [sys.executable, "-c", JOIN, address], env=env, capture_output=True, text=True, timeout=120
        )
        assert joined.returncode == 0 and "CPUS 1.0" in joined.stdout, joined.stdout + joined.stderr
        wrong = tmp_path / "wrong_token"
        wrong.write_text("0" * 64)
        # A refused driver retries the GCS about once a second, 20 times by default; Ray's own budget for that wait
        # (RAY_gcs_server_port_wait_time_s) cuts it short. The refusal is still the GCS's token check.
        refused = subprocess.run(
            [sys.executable, "-c", JOIN, address],
            env={**env, "RAY_AUTH_TOKEN_PATH": str(wrong), "RAY_gcs_server_port_wait_time_s": "2"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refused.returncode != 0 and "CPUS" not in refused.stdout, refused.stdout + refused.stderr
        assert "authentication" in refused.stderr.lower(), refused.stderr[-2000:]
    finally:
        os.killpg(head.pid, signal.SIGTERM)  # the head's own session: its GCS, raylet and workers, nothing else
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait(timeout=30)
        shutil.rmtree(temp_dir, ignore_errors=True)
