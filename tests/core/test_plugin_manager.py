"""The plugin manager: built-ins, entry points (each in its own try), environment switches, named registries."""

from __future__ import annotations

import sys
import types
from importlib import metadata
from pathlib import Path

import pytest
from core_helpers import TYPO_PLUGIN, FakeSite

from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import BackendDescriptor, ClusterDescriptor, EvaluatorDescriptor, PlotDescriptor
from optima_core.plugins.manager import (
    BUILTIN_PLUGINS,
    ENTRY_POINT_GROUP,
    OptimaPluginManager,
    PluginError,
    PluginRecord,
    create_plugin_manager,
)


def _record(manager: OptimaPluginManager, name: str):
    matches = [r for r in manager.records if r.name == name]
    assert len(matches) == 1, f"expected one record named {name!r}, got {manager.records}"
    return matches[0]


def _plugin(name: str, **hooks: object) -> types.ModuleType:
    """An in-memory plugin module with the given hook implementations."""
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, function)
    return module


def _fake_entry_points(dist: str) -> list[metadata.EntryPoint]:
    """The ``optima`` entry points of one (fake) distribution, found on sys.path like any installed one."""
    return list(metadata.distribution(dist).entry_points.select(group=ENTRY_POINT_GROUP))


# ---------------------------------------------------------------------------------------------------------------
# Built-ins
# ---------------------------------------------------------------------------------------------------------------


def test_builtins_are_registered_as_plugins() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    for module_name in BUILTIN_PLUGINS:
        record = _record(manager, module_name)
        assert (record.status, record.origin, record.distribution) == ("active", "builtin", "optima-core")
        assert manager.pm.get_plugin(module_name) is sys.modules[module_name]
    builtin = _record(manager, "optima_core.builtin.plugin")
    assert {"InputHandler", "fit_function", "optima_register_clusters"} <= set(builtin.hooks)
    assert "optima_core.builtin.plugin" in manager.hook_providers("InputHandler")
    assert set(manager.clusters()) == {"local", "custom"}
    assert manager.clusters()["local"].provider == "'optima_core.builtin.plugin' (optima-core)"


def test_every_manager_is_fresh() -> None:
    first = create_plugin_manager(load_entry_points=False)
    first.pm.register(_plugin("extra"), name="extra")
    second = create_plugin_manager(load_entry_points=False)
    assert first.pm is not second.pm
    assert second.pm.get_plugin("extra") is None


def test_descriptor_lookup_lists_valid_names() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    assert manager.descriptor("cluster", "local").load().__name__ == "LocalCluster"
    with pytest.raises(PluginError, match=r"no cluster named 'moon' is registered; available: 'custom', 'local'"):
        manager.descriptor("cluster", "moon")


# ---------------------------------------------------------------------------------------------------------------
# A fake installed distribution with a working and a broken entry point
# ---------------------------------------------------------------------------------------------------------------


def test_fake_distribution_is_discovered(fakeplug: FakeSite) -> None:
    names = {ep.name for ep in _fake_entry_points("fakeplug")}
    assert names == {"good", "broken"}
    found = {(ep.name, ep.dist.name) for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.dist is not None}
    assert {("good", "fakeplug"), ("broken", "fakeplug")} <= found


def test_broken_entry_point_is_recorded_and_the_working_one_is_active(fakeplug: FakeSite) -> None:
    manager = create_plugin_manager()

    broken = _record(manager, "broken")
    assert broken.status == "failed"
    assert (broken.distribution, broken.version, broken.origin) == ("fakeplug", "1.0", "entry point")
    assert broken.error == "RuntimeError: fakeplug_broken refuses to import"
    assert broken.hooks == []
    assert manager.pm.get_plugin("broken") is None

    good = _record(manager, "good")
    assert good.status == "active"
    assert good.hooks == ["get_inputs", "optima_register_backends"]
    assert manager.backends()["FakeNet"].provider == "'good' (fakeplug)"
    assert manager.backends()["FakeNet"].load().__name__ == "FakeBackend"
    assert manager.hooks.get_inputs(run_config=None, nevts=7, input_vars_list=[], disable_printing=True) == (
        "fakeplug",
        7,
    )
    manager.check_pending()


def test_plugins_are_listed_once_per_distribution(fakeplug: FakeSite) -> None:
    twice = [*_fake_entry_points("fakeplug"), *_fake_entry_points("fakeplug")]
    manager = create_plugin_manager(load_entry_points=True, entry_points=twice)
    assert sorted(r.name for r in manager.records if r.distribution == "fakeplug") == ["broken", "good"]


def test_disabled_plugin_is_not_imported(fakeplug: FakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "imported.marker"
    monkeypatch.setenv("FAKEPLUG_MARKER", str(marker))
    monkeypatch.setenv("OPTIMA_DISABLE_PLUGINS", " broken , something-else")

    manager = create_plugin_manager()

    broken = _record(manager, "broken")
    assert broken.status == "disabled"
    assert "OPTIMA_DISABLE_PLUGINS" in broken.error
    assert not marker.exists(), "a disabled plugin must not be imported"
    assert "fakeplug_broken" not in sys.modules
    assert _record(manager, "good").status == "active"
    manager.check_pending()


def test_marker_proves_import_when_not_disabled(
    fakeplug: FakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: without the switch the marker is written."""
    marker = tmp_path / "imported.marker"
    monkeypatch.setenv("FAKEPLUG_MARKER", str(marker))
    create_plugin_manager()
    assert marker.read_text() == "imported"


def test_disable_by_distribution_name(fakeplug: FakeSite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTIMA_DISABLE_PLUGINS", "fakeplug")
    manager = create_plugin_manager()
    assert {r.name: r.status for r in manager.records if r.distribution == "fakeplug"} == {
        "good": "disabled",
        "broken": "disabled",
    }
    assert "fakeplug_good" not in sys.modules
    assert "FakeNet" not in manager.backends()


def test_raise_plugin_errors_switch(fakeplug: FakeSite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTIMA_RAISE_PLUGIN_ERRORS", "1")
    with pytest.raises(RuntimeError, match="fakeplug_broken refuses to import"):
        create_plugin_manager()


def test_misspelled_hook_fails_with_a_hint(fake_site: FakeSite) -> None:
    fake_site.add_distribution("typoplug", {"typo": "typoplug_mod"}, {"typoplug_mod": TYPO_PLUGIN})
    manager = create_plugin_manager()
    typo = _record(manager, "typo")
    assert typo.status == "failed"
    assert "'optima_register_backend' (did you mean 'optima_register_backends'?)" in typo.error
    assert manager.pm.get_plugin("typo") is None
    manager.check_pending()


def test_same_entry_point_name_in_two_distributions(fake_site: FakeSite) -> None:
    """The second one fails to register; the first keeps working (it is not unregistered in the clean-up)."""
    fake_site.add_distribution(
        "twin-one", {"twin": "twin_one_mod"}, {"twin_one_mod": DUPE_PLUGIN.format(backend="One", module="twin_one_mod")}
    )
    fake_site.add_distribution(
        "twin-two", {"twin": "twin_two_mod"}, {"twin_two_mod": DUPE_PLUGIN.format(backend="Two", module="twin_two_mod")}
    )
    manager = create_plugin_manager(entry_points=[*_fake_entry_points("twin-one"), *_fake_entry_points("twin-two")])
    one, two = (r for r in manager.records if r.name == "twin")
    assert (one.distribution, one.status) == ("twin-one", "active")
    assert (two.distribution, two.status) == ("twin-two", "failed")
    assert "already registered" in two.error
    assert set(manager.backends()) == {"One"}
    assert manager.backends()["One"].provider == "'twin' (twin-one)"


def test_one_module_behind_two_entry_point_names(fake_site: FakeSite) -> None:
    fake_site.add_distribution(
        "aliasplug",
        {"first_alias": "alias_mod", "second_alias": "alias_mod"},
        {"alias_mod": DUPE_PLUGIN.format(backend="Alias", module="alias_mod")},
    )
    entry_points = sorted(_fake_entry_points("aliasplug"), key=lambda ep: ep.name)
    manager = create_plugin_manager(entry_points=entry_points)
    assert _record(manager, "first_alias").status == "active"
    assert _record(manager, "second_alias").status == "failed"
    assert set(manager.backends()) == {"Alias"}


def test_registration_hook_that_raises_marks_the_plugin_failed() -> None:
    @hookimpl
    def optima_register_backends():
        raise ValueError("no GPU here")

    manager = create_plugin_manager(load_entry_points=False)
    manager.pm.register(_plugin("raiser", optima_register_backends=optima_register_backends), name="raiser")
    manager.records.append(PluginRecord("raiser", "raiserdist", "0.1", "active", "entry point"))
    assert manager.backends() == {}
    record = _record(manager, "raiser")
    assert record.status == "failed"
    assert record.error == "optima_register_backends raised ValueError: no GPU here"


def test_registration_hook_returning_a_wrong_type_marks_the_plugin_failed() -> None:
    @hookimpl
    def optima_register_clusters():
        return [BackendDescriptor("Oops", object)]

    manager = create_plugin_manager(load_entry_points=False)
    manager.pm.register(_plugin("wrong", optima_register_clusters=optima_register_clusters), name="wrong")
    manager.records.append(PluginRecord("wrong", "wrongdist", "0.1", "active", "entry point"))
    assert set(manager.clusters()) == {"local", "custom"}
    record = _record(manager, "wrong")
    assert record.status == "failed"
    assert "expected ClusterDescriptor objects" in record.error


def test_registration_hook_returning_a_bare_descriptor_marks_the_plugin_failed() -> None:
    """A plugin forgetting the list must not take down ``optima plugins`` / ``optima check``."""

    @hookimpl
    def optima_register_backends():
        return BackendDescriptor("Solo", "solo:Backend")

    manager = create_plugin_manager(load_entry_points=False)
    manager.pm.register(_plugin("bare", optima_register_backends=optima_register_backends), name="bare")
    manager.records.append(PluginRecord("bare", "baredist", "0.1", "active", "entry point"))
    assert manager.backends() == {}
    record = _record(manager, "bare")
    assert record.status == "failed"
    assert "expected a list of BackendDescriptor objects" in record.error


# ---------------------------------------------------------------------------------------------------------------
# Duplicate names
# ---------------------------------------------------------------------------------------------------------------


def _backend_plugin(name: str, backend: str) -> types.ModuleType:
    @hookimpl
    def optima_register_backends():
        return [BackendDescriptor(backend, f"{name}:Backend", f"{backend} by {name}")]

    return _plugin(name, optima_register_backends=optima_register_backends)


def test_duplicate_backend_names_in_memory_plugins() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    manager.pm.register(_backend_plugin("first_keras", "Keras"), name="first_keras")
    manager.pm.register(_backend_plugin("second_keras", "Keras"), name="second_keras")

    errors = manager.registry_errors
    assert len(errors) == 1
    assert "two plugins register a backend named 'Keras'" in errors[0]
    assert "'first_keras'" in errors[0] and "'second_keras'" in errors[0]
    with pytest.raises(PluginError) as raised:
        manager.backends()
    assert "'first_keras'" in str(raised.value) and "'second_keras'" in str(raised.value)
    with pytest.raises(PluginError, match="'Keras'"):
        manager.descriptor("backend", "Keras")
    # Other registries are unaffected in what components() shows.
    assert set(manager.components()["clusters"]) == {"local", "custom"}


def test_unique_backend_names_do_not_conflict() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    manager.pm.register(_backend_plugin("a_plugin", "Keras"), name="a_plugin")
    manager.pm.register(_backend_plugin("b_plugin", "Lightning"), name="b_plugin")
    assert manager.registry_errors == []
    assert sorted(manager.backends()) == ["Keras", "Lightning"]
    assert manager.backends()["Lightning"].provider == "'b_plugin'"


DUPE_PLUGIN = """
from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import BackendDescriptor


@hookimpl
def optima_register_backends():
    return [BackendDescriptor("{backend}", "{module}:Backend")]
"""


def test_duplicate_backend_names_from_entry_points(fake_site: FakeSite) -> None:
    fake_site.add_distribution(
        "dupeplug",
        {"dupe_a": "dupe_a_mod", "dupe_b": "dupe_b_mod"},
        {
            "dupe_a_mod": DUPE_PLUGIN.format(backend="Keras", module="dupe_a_mod"),
            "dupe_b_mod": DUPE_PLUGIN.format(backend="Keras", module="dupe_b_mod"),
        },
    )
    manager = create_plugin_manager(entry_points=_fake_entry_points("dupeplug"))
    (error,) = manager.registry_errors
    assert error.startswith("two plugins register a backend named 'Keras': ")
    assert "'dupe_a' (dupeplug)" in error and "'dupe_b' (dupeplug)" in error
    with pytest.raises(PluginError, match=r"dupe_a.*dupe_b|dupe_b.*dupe_a"):
        manager.backends()


def test_duplicate_cluster_name_against_a_builtin() -> None:
    @hookimpl
    def optima_register_clusters():
        return [ClusterDescriptor("local", "elsewhere:Cluster")]

    manager = create_plugin_manager(load_entry_points=False)
    manager.pm.register(_plugin("shadow", optima_register_clusters=optima_register_clusters), name="shadow")
    (error,) = manager.registry_errors
    assert "cluster named 'local'" in error
    assert "'optima_core.builtin.plugin' (optima-core)" in error and "'shadow'" in error


# ---------------------------------------------------------------------------------------------------------------
# Every registration hook feeds its own named registry
# ---------------------------------------------------------------------------------------------------------------


class _EverythingPlugin:
    @hookimpl
    def optima_register_backends(self):
        return [BackendDescriptor("Toy", "toy:Backend", requires=("numpy",))]

    @hookimpl
    def optima_register_clusters(self):
        return [ClusterDescriptor("toycluster", "toy:Cluster")]

    @hookimpl
    def optima_register_variable_importance_evaluators(self):
        return [EvaluatorDescriptor("permutation", "toy:evaluate", "shuffle without replacement")]

    @hookimpl
    def optima_register_plots(self):
        return [PlotDescriptor("loss_curve", "toy:plot_loss"), PlotDescriptor("roc_curves", "toy:plot_roc")]


def test_every_registration_hook_feeds_its_registry() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    manager.pm.register(_EverythingPlugin(), name="toy")
    assert manager.registry_errors == []
    assert manager.backends()["Toy"].requires == ("numpy",)
    assert set(manager.clusters()) == {"local", "custom", "toycluster"}
    assert manager.evaluators()["permutation"].description == "shuffle without replacement"
    assert sorted(manager.plots()) == ["loss_curve", "roc_curves"]
    assert manager.descriptor("evaluator", "permutation").provider == "'toy'"
    assert manager.descriptor("plot", "roc_curves").target == "toy:plot_roc"
    assert set(manager.components()) == {"backends", "clusters", "evaluators", "plots"}
    with pytest.raises(PluginError, match=r"no plot named 'pie' is registered; available: 'loss_curve', 'roc_curves'"):
        manager.descriptor("plot", "pie")


def test_duplicate_evaluator_and_plot_names() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    manager.pm.register(_EverythingPlugin(), name="toy_a")
    manager.pm.register(_EverythingPlugin(), name="toy_b")
    errors = manager.registry_errors
    for kind, name in [
        ("backend", "Toy"),
        ("cluster", "toycluster"),
        ("evaluator", "permutation"),
        ("plot", "roc_curves"),
    ]:
        (error,) = [e for e in errors if f"a {kind} named '{name}'" in e]
        assert "'toy_a'" in error and "'toy_b'" in error
    with pytest.raises(PluginError):
        manager.evaluators()
    with pytest.raises(PluginError):
        manager.plots()


def test_descriptor_loads_lazily_from_a_string_target() -> None:
    descriptor = PlotDescriptor("json_dumps", "json:dumps")
    assert descriptor.load()("x") == '"x"'
    assert PlotDescriptor("module", "json").load().__name__ == "json"
    assert ClusterDescriptor("direct", dict).load() is dict


def test_a_target_that_does_not_load_is_a_plugin_error_naming_the_component() -> None:
    """Not a raw ModuleNotFoundError/AttributeError hours into a run: the component, its provider and the cause."""
    cluster = ClusterDescriptor("moon", "optima_no_such_module:Moon", provider="'lunar' (lunar-dist)")
    with pytest.raises(PluginError) as raised:
        cluster.load()
    assert str(raised.value) == (
        "the cluster 'moon' registered by 'lunar' (lunar-dist) cannot be loaded from 'optima_no_such_module:Moon': "
        "ModuleNotFoundError: No module named 'optima_no_such_module'"
    )
    with pytest.raises(PluginError, match="module 'json' has no attribute 'dump_s'"):
        EvaluatorDescriptor("typo", "json:dump_s").load()


def test_find_problem_locates_without_importing_when_asked(fake_site: FakeSite) -> None:
    fake_site.add_distribution("lazy", {}, {"lazymod": "raise RuntimeError('imported')\nif True:\n    Thing = 1\n"})
    assert BackendDescriptor("ok", "lazymod:Thing").find_problem(import_target=False) is None
    assert "lazymod" not in sys.modules
    typo = BackendDescriptor("typo", "lazymod:Thin").find_problem(import_target=False)
    assert typo is not None and typo.endswith("module 'lazymod' defines no 'Thin'")
    imported = BackendDescriptor("ok", "lazymod:Thing").find_problem()
    assert imported is not None and imported.endswith("RuntimeError: imported")
    assert ClusterDescriptor("direct", dict).find_problem() is None
    assert PlotDescriptor("json_dumps", "json:dumps").find_problem(import_target=False) is None


def test_a_missing_name_names_the_plugins_that_failed_to_load(fakeplug: FakeSite) -> None:
    manager = create_plugin_manager()
    with pytest.raises(PluginError) as raised:
        manager.descriptor("cluster", "broken")
    assert str(raised.value).startswith("no cluster named 'broken' is registered; available: ")
    assert (
        "; it may be provided by plugin 'broken' (fakeplug), which failed to load: RuntimeError: fakeplug_broken refuses to import"
        in str(raised.value)
    )
    assert create_plugin_manager(load_entry_points=False).failed_plugins_note() == ""


class _Figures:
    """Registers the figures ``names``, as explicit replacements when ``replaces``."""

    def __init__(self, *names: str, replaces: bool = False) -> None:
        self.names = names
        self.replaces = replaces

    @hookimpl
    def optima_register_plots(self):
        return [PlotDescriptor(name, f"mine:{name}", replaces=self.replaces) for name in self.names]


def test_an_explicit_replacement_wins_whatever_the_registration_order() -> None:
    for order in ([("base", False), ("mine", True)], [("mine", True), ("base", False)]):
        manager = create_plugin_manager(load_entry_points=False)
        for name, replaces in order:
            manager.pm.register(_Figures("roc_curves", "input_data", replaces=replaces), name=name)
        manager.pm.register(_Figures("loss_curve"), name="other")
        assert manager.registry_errors == []
        assert {n: d.provider for n, d in manager.plots().items()} == {
            "roc_curves": "'mine'",
            "input_data": "'mine'",
            "loss_curve": "'other'",
        }
        assert manager.replaced()["plots"] == {"roc_curves": "'base'", "input_data": "'base'"}


def test_a_replacement_of_a_name_nobody_else_registers_is_simply_registered() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    manager.pm.register(_Figures("pie", replaces=True), name="mine")
    assert manager.descriptor("plot", "pie").provider == "'mine'"
    assert manager.replaced()["plots"] == {}


def test_two_replacements_of_one_figure_are_refused_naming_both() -> None:
    manager = create_plugin_manager(load_entry_points=False)
    manager.pm.register(_Figures("roc_curves"), name="base")
    manager.pm.register(_Figures("roc_curves", replaces=True), name="mine_a")
    manager.pm.register(_Figures("roc_curves", replaces=True), name="mine_b")
    assert manager.registry_errors == [
        "two plugins register a plot named 'roc_curves' as a replacement: 'mine_a' and 'mine_b'"
    ]
    with pytest.raises(PluginError, match="as a replacement: 'mine_a' and 'mine_b'"):
        manager.plots()


def test_optima_plugins_names_components_whose_target_cannot_be_loaded(fake_site: FakeSite) -> None:
    """A plugin whose evaluator target does not import is not silently 'active': the component is named."""
    from click.testing import CliRunner

    from optima_core.cli import cli

    source = (
        "from optima_core.hookspecs import hookimpl\n"
        "from optima_core.plugins.descriptors import EvaluatorDescriptor\n"
        "@hookimpl\n"
        "def optima_register_variable_importance_evaluators():\n"
        "    return [EvaluatorDescriptor('permutation', 'optima_no_such_module:Permutation')]\n"
    )
    fake_site.add_distribution("wrongeval", {"wrongeval": "wrongeval"}, {"wrongeval": source})
    problem = (
        "the evaluator 'permutation' registered by 'wrongeval' (wrongeval) cannot be loaded from "
        "'optima_no_such_module:Permutation': ModuleNotFoundError: No module named 'optima_no_such_module'"
    )
    assert create_plugin_manager().unloadable_components() == [problem]
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert f"unloadable: {problem}" in result.output
