"""The output folder of a run: its name, what is copied into it, and the guard against mixing runs.

The folder is ``output_path/<stages>_<output_name>`` (``<stages>`` names the steps performed, e.g.
``varOpt_main_PBT`` or ``fixedHPs``), or ``output_path/output_name`` with ``use_exact_name``. The run-config and
the resolved parameters are copied in. A folder that already holds results is only reused with ``--resume``, and
only by the same run-config (its SHA-256 is recorded): the original silently reused old results after the
config had changed. A folder whose run stopped before its first stage (a data error, Ctrl-C at start-up) holds no
results and is reused with a note. A non-empty folder without OPTIMA's manifest (e.g. one of the original tool) is
never written into.

A run holds an exclusive lock on ``.optima.lock`` in its folder for as long as its process lives (the system
releases it when the process ends, also on ``kill -9``), so two runs started at the same instant never share a
folder; the manifest is replaced atomically, so it is never read half-written.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from optima_core import __version__
from optima_core.config.loader import RunConfig
from optima_core.config.problems import ConfigError, Problem

MANIFEST = "optima_run.json"
LOCK_FILE = ".optima.lock"
#: What preparing a folder writes (and the log and input plots of the start-up, and the report of a run that
#: stopped before its first stage); a folder holding only these holds no results of a stage.
PREPARATION_FILES = frozenset(
    {MANIFEST, LOCK_FILE, "run_config.py", "defaults_config.py", "resolved_config.json", "optima.log", "inputs"}
    | {"report.html"}
)
_TEMP_PREFIX = f".{MANIFEST}."
NOTHING_TO_RESUME = f"holds no OPTIMA run (no {MANIFEST}): there is nothing to resume"

logger = logging.getLogger(__name__)

#: Folder -> (process id, descriptor) of the locks this process took (a forked child inherits the entries, not
#: the right to reuse them).
_held_locks: dict[Path, tuple[int, int]] = {}


def stage_prefix(run_config: RunConfig) -> str:
    steps = [
        label
        for flag, label in (
            ("perform_variable_opt", "varOpt"),
            ("perform_main_hyperopt", "main"),
            ("perform_PBT_hyperopt", "PBT"),
        )
        if run_config.get(flag)
    ]
    return "_".join(steps) if steps else "fixedHPs"


def output_folder(run_config: RunConfig) -> Path:
    name = (
        run_config.output_name if run_config.use_exact_name else f"{stage_prefix(run_config)}_{run_config.output_name}"
    )
    return (Path(run_config.output_path) / name).resolve()


def config_fingerprint(run_config: RunConfig) -> str:
    """SHA-256 of the run-config and defaults texts the run executed (not of the files, which may have changed)."""
    digest = hashlib.sha256()
    for text in (run_config.text, run_config.defaults_text):
        if text is not None:
            digest.update(text.encode())
    return digest.hexdigest()


def jsonable(value: Any) -> Any:
    """``value`` with infinities as strings, keys as strings and unknown objects as their repr (for JSON)."""
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def _folder_error(folder: Path, problem: str) -> ConfigError:
    return ConfigError(f"The output folder '{folder}'", [problem])


def _lock(folder: Path) -> None:
    """Lock ``folder`` for this process until released (or the process ends); refuse if another run holds it."""
    if _held_locks.get(folder, (None, None))[0] == os.getpid():
        return
    descriptor = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(descriptor)
        if error.errno in (errno.EAGAIN, errno.EACCES):
            raise _folder_error(
                folder,
                "is in use by another OPTIMA run that is running now; wait for it or set another output_name / "
                "output_path",
            ) from error
        # a file system without locks (some cluster mounts): the manifest checks below still apply
        logger.warning("cannot lock the output folder %s (%s); make sure no other run uses it", folder, error)
        return
    _held_locks[folder] = (os.getpid(), descriptor)


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        text = (folder / MANIFEST).read_text()
    except FileNotFoundError:
        return None
    try:
        recorded = json.loads(text)
    except json.JSONDecodeError as error:
        raise _folder_error(
            folder, f"has an unreadable {MANIFEST} ({error}); restore it or choose another folder"
        ) from error
    if not isinstance(recorded, dict):
        raise _folder_error(folder, f"has an unreadable {MANIFEST} (not a JSON object)")
    return recorded


def _results(folder: Path) -> list[str]:
    """Names in ``folder`` beyond what preparing it and starting the run write."""
    return sorted(
        p.name for p in folder.iterdir() if p.name not in PREPARATION_FILES and not p.name.startswith(_TEMP_PREFIX)
    )


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a reader never sees it half-written."""
    descriptor, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def prepare_output_folder(run_config: RunConfig, *, resume: bool, facts: dict[str, Any] | None = None) -> Path:
    """Create (or, with ``resume``, reopen) the run's output folder and lock it; refuse to mix runs. ``facts`` (the
    command, versions, ... of :func:`optima_core.report.record.start_facts`) go into a new run's manifest."""
    folder = output_folder(run_config)
    fingerprint = config_fingerprint(run_config)
    if folder.is_dir() and not (folder / MANIFEST).exists() and (files := _results(folder)):
        raise _folder_error(
            folder,
            f"is not empty ({', '.join(files[:5])}) and holds no {MANIFEST}, so it was not written by OPTIMA (for "
            "example by the original tool); OPTIMA never writes into it. Set another output_name / output_path, or "
            "empty the folder",
        )
    if resume and not folder.is_dir():
        raise _folder_error(folder, NOTHING_TO_RESUME)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _lock(folder)
    except OSError as error:
        raise ConfigError(
            "The run-config",
            [Problem("output_path", run_config.output_path, "a folder this user can write to", _why(folder, error))],
        ) from None
    try:
        _claim(folder, run_config, fingerprint, resume=resume, facts=facts)
    except BaseException:
        _release(folder)
        raise
    return folder


def _why(folder: Path, error: OSError) -> str:
    """Why the output folder cannot be created or written, in a few words."""
    where = f" ({error.filename})" if error.filename and str(error.filename) != str(folder) else ""
    return f"cannot create or write the output folder {folder}: {error.strerror or error}{where}"


def _claim(
    folder: Path, run_config: RunConfig, fingerprint: str, *, resume: bool, facts: dict[str, Any] | None = None
) -> None:
    """With the folder locked: check what it holds and, unless resuming, record this run in it."""
    recorded = _read_manifest(folder)
    if resume:
        if recorded is None:
            raise _folder_error(folder, NOTHING_TO_RESUME)
        if recorded.get("config_sha256") != fingerprint:
            raise _folder_error(
                folder,
                "was produced by a different run-config (its SHA-256 differs); --resume only continues the same "
                "configuration. Use another output_name for the changed config.",
            )
        return
    if recorded is not None:
        if files := _results(folder):
            raise _folder_error(
                folder,
                f"already holds the results of a run ({', '.join(files[:5])}); continue it with 'optima run CONFIG "
                "--resume', or set another output_name / output_path",
            )
        logger.warning(
            "note: reusing the output folder %s: its earlier run stopped before its first stage and left no results",
            folder,
        )
    manifest = {
        "optima_version": __version__,
        "config_sha256": fingerprint,
        "config": str(run_config.path),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **jsonable(facts or {}),
    }
    _write_atomically(folder / MANIFEST, json.dumps(manifest, indent=2))
    if run_config.text is not None:  # what the run executed, also when the file changed since
        (folder / "run_config.py").write_text(run_config.text, encoding="utf-8")
    if run_config.defaults_text is not None:
        (folder / "defaults_config.py").write_text(run_config.defaults_text, encoding="utf-8")
    else:
        (folder / "defaults_config.py").unlink(missing_ok=True)  # of an earlier run that stopped at start-up
    _write_atomically(folder / "resolved_config.json", json.dumps(jsonable(run_config.as_dict()), indent=2))


@contextmanager
def holding_output_folder(folder: Path) -> Iterator[Path]:
    """Release the lock :func:`prepare_output_folder` took on ``folder`` when the block ends (as ending the process
    does), so that a later run of a long-lived process (an API user's session) or another process can use it."""
    try:
        yield folder
    finally:
        _release(folder)


def _release(folder: Path) -> None:
    pid, descriptor = _held_locks.pop(folder, (None, None))
    if descriptor is not None and pid == os.getpid():
        os.close(descriptor)


def update_manifest(folder: Path, fields: dict[str, Any]) -> None:
    """Set ``fields`` in ``folder``'s manifest (rewritten atomically); nothing when the folder has none."""
    recorded = _read_manifest(folder)
    if recorded is None:
        return
    recorded.update(jsonable(fields))
    _write_atomically(folder / MANIFEST, json.dumps(recorded, indent=2))
