"""How the core finds a backend's ONNX exporter through its descriptor, and what it says when it cannot export."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from optima_core.deploy.export import ExportError, backend_exporter
from optima_core.plugins.descriptors import BackendDescriptor


class _Manager:
    def __init__(self, descriptor: BackendDescriptor) -> None:
        self._descriptor = descriptor

    def descriptor(self, kind: str, name: str) -> Any:
        assert (kind, name) == ("backend", self._descriptor.name)
        return self._descriptor


@pytest.fixture
def fake_exporter(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("optima_fake_exporter")
    module.missing = lambda: ["tf2onnx"]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "optima_fake_exporter", module)
    return module


def test_a_backend_without_an_exporter_is_named() -> None:
    manager = _Manager(BackendDescriptor("Plain", "x:y", provider="plainplug"))
    with pytest.raises(ExportError, match=r"the backend 'Plain' \(plainplug\) has no ONNX exporter"):
        backend_exporter(manager, "Plain")


def test_missing_exporter_packages_are_named_with_the_extra_to_install(fake_exporter: types.ModuleType) -> None:
    manager = _Manager(BackendDescriptor("Fake", "x:y", onnx_exporter="optima_fake_exporter"))
    with pytest.raises(ExportError, match=r"tf2onnx not installed \(pip install 'optima_fake_exporter\[onnx\]'"):
        backend_exporter(manager, "Fake")


def test_an_installed_exporter_is_returned(fake_exporter: types.ModuleType) -> None:
    pytest.importorskip("onnxruntime")
    fake_exporter.missing = lambda: []  # type: ignore[attr-defined]
    manager = _Manager(BackendDescriptor("Fake", "x:y", onnx_exporter="optima_fake_exporter"))
    assert backend_exporter(manager, "Fake") is fake_exporter


@pytest.mark.parametrize("plugin", ["optima_lightning.plugin", "optima_keras.plugin"])
def test_both_backends_state_their_exporter(plugin: str) -> None:
    module = pytest.importorskip(plugin)
    (descriptor,) = module.optima_register_backends()
    exporter = __import__(descriptor.onnx_exporter, fromlist=["missing"])
    assert callable(exporter.export) and exporter.missing() == []
