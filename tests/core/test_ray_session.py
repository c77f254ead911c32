"""The Ray instance of a run is not open to the network and leaves nothing behind (issue 13, defect 5).

A real local instance runs an actor (what a trial is); every TCP listener of this process and of every
process it started (GCS, raylet, agents, workers) must be on the loopback address.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path

import pytest

from optima_core.clusters.local import ResourceRequest, derive_plan
from optima_core.engine.ray_session import check_cluster_token, ray_session, short_temp_dir
from optima_core.errors import OptimaUserError

LISTEN = "0A"


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = {pid}, [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def socket_owners(pids: set[int]) -> dict[str, str]:
    """Socket inode -> command line of the process holding it."""
    owners = {}
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    owners[target[8:-1]] = command
        except OSError:
            continue
    return owners


def address_of(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """A /proc/net/tcp{,6} address: 32-bit words in host (little-endian) byte order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def listeners(pids: set[int]) -> list[tuple[str, str]]:
    """``(address, command)`` of every TCP socket in LISTEN state held by ``pids``."""
    owners = socket_owners(pids)
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            columns = line.split()
            if columns[3] == LISTEN and columns[9] in owners:
                found.append((columns[1], owners[columns[9]]))
    return found


def is_loopback(hex_address: str) -> bool:
    address = address_of(hex_address.split(":")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def test_the_address_decoding_of_the_check_itself() -> None:
    assert is_loopback("0100007F:1F90") and is_loopback("0000000000000000FFFF00000100007F:1F90")
    assert is_loopback("00000000000000000000000001000000:1F90")  # ::1
    assert not is_loopback("00000000:1F90") and not is_loopback("00000000000000000000000000000000:1F90")
    assert not is_loopback("020200C0:1F90")  # 192.0.2.2


@pytest.mark.slow
def test_a_local_run_listens_on_loopback_only_and_removes_its_temp_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    plan = derive_plan(1, 0, ResourceRequest())
    folder = Path(short_temp_dir())
    with ray_session(plan) as ray:

        @ray.remote
        class Trial:
            def cache_folder(self) -> str:
                import matplotlib

                return matplotlib.get_cachedir()

        trial = Trial.remote()
        worker_cache = ray.get(trial.cache_folder.remote())
        found = listeners(descendants(os.getpid()))
        processes = " ".join(
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            for pid in descendants(os.getpid())
            if Path(f"/proc/{pid}/cmdline").exists()
        )
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert os.environ["MPLCONFIGDIR"] == str(folder / "mpl")
    commands = " ".join(command for _, command in found)
    assert "gcs_server" in commands and "raylet" in commands, found  # the check saw Ray's servers
    exposed = [(str(address_of(a.split(":")[0])), command[:80]) for a, command in found if not is_loopback(a)]
    assert exposed == []
    assert worker_cache == str(folder / "mpl")  # the workers' matplotlib cache is the run's, not in ~
    assert not folder.exists()
    # a run's own instance neither scales, streams worker logs nor serves the job/state APIs (about 270 MB)
    assert "raylet" in processes and "monitor.py" not in processes and "dashboard.py" not in processes, processes
    # nor starts idle workers that no trial takes (actors never do; about 1.5 CPU-s each at the run's start)
    assert "ray::IDLE" not in processes, processes
    assert "MPLCONFIGDIR" not in os.environ  # what the session set is gone with it


def test_joining_a_cluster_needs_its_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ray/auth_token
    with pytest.raises(
        OptimaUserError, match=r"--address 10\.0\.0\.1:6379: .*token authentication.*RAY_AUTH_TOKEN_PATH"
    ):
        check_cluster_token("10.0.0.1:6379")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(tmp_path / "missing"))
    with pytest.raises(OptimaUserError, match=r"RAY_AUTH_TOKEN_PATH = .*missing'.*token file"):
        check_cluster_token("10.0.0.1:6379")
    (tmp_path / "token").write_text("a" * 64)
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(tmp_path / "token"))
    check_cluster_token("10.0.0.1:6379")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    with pytest.raises(OptimaUserError, match=r"RAY_AUTH_MODE = 'disabled': expected 'token'"):
        check_cluster_token("10.0.0.1:6379")
