"""Fixtures of the core tests: run-configs written into tmp_path, and fake installed plugin distributions."""

from __future__ import annotations

import functools
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from core_helpers import BASE_SETTINGS, BROKEN_PLUGIN, GOOD_PLUGIN, KERAS_STUB, FakeSite

ConfigWriter = Callable[..., Path]


@pytest.fixture
def inputs_file(tmp_path: Path) -> Path:
    """An existing input file (validation only checks that it exists)."""
    path = tmp_path / "inputs.parquet"
    path.write_bytes(b"")
    return path


@functools.cache
def _keras_backend_installed() -> bool:
    from optima_core.plugins.manager import create_plugin_manager

    return "Keras" in create_plugin_manager().components()["backends"]


@pytest.fixture
def keras_backend(fake_site: FakeSite) -> None:
    """The base run-config uses model_type 'Keras': without optima-keras installed, a stub registers the name."""
    if not _keras_backend_installed():
        fake_site.add_distribution(
            "optima-keras-stub", {"keras": "optima_keras_stub"}, {"optima_keras_stub": KERAS_STUB}
        )


@pytest.fixture
def write_config(tmp_path: Path, inputs_file: Path, keras_backend: None) -> ConfigWriter:
    """Write a run-config: the base settings minus ``drop``, then ``extra`` source lines; return its path.

    Later assignments in ``extra`` override the base ones (it is plain Python).
    """
    counter = iter(range(10_000))

    def write(extra: str = "", *, drop: tuple[str, ...] = (), base: bool = True, name: str | None = None) -> Path:
        lines = []
        if base:
            for key, value in BASE_SETTINGS.items():
                if key not in drop:
                    lines.append(f"{key} = {value.format(inputs_file=repr(str(inputs_file)))}")
        source = "\n".join(lines) + "\n" + textwrap.dedent(extra).strip("\n") + "\n"
        path = tmp_path / (name or f"run_config_{next(counter)}.py")
        path.write_text(source)
        return path

    return write


# ---------------------------------------------------------------------------------------------------------------
# Fake installed distributions (found by importlib.metadata through sys.path, no pip involved)
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    site = FakeSite(tmp_path / "site")
    site.path.mkdir()
    monkeypatch.syspath_prepend(str(site.path))
    monkeypatch.delenv("OPTIMA_DISABLE_PLUGINS", raising=False)
    monkeypatch.delenv("OPTIMA_RAISE_PLUGIN_ERRORS", raising=False)
    yield site
    for module in site.modules:
        sys.modules.pop(module, None)


@pytest.fixture
def fakeplug(fake_site: FakeSite) -> FakeSite:
    """Distribution 'fakeplug' with a working entry point ('good') and one whose module raises on import ('broken')."""
    fake_site.add_distribution(
        "fakeplug",
        {"good": "fakeplug_good", "broken": "fakeplug_broken"},
        {"fakeplug_good": GOOD_PLUGIN, "fakeplug_broken": BROKEN_PLUGIN},
    )
    return fake_site
