"""OPTIMA's plugin system: the manager, named descriptors and the run-config adapter."""

from optima_core.errors import PluginError
from optima_core.plugins.descriptors import (
    BackendDescriptor,
    ClusterDescriptor,
    Descriptor,
    EvaluatorDescriptor,
    PlotDescriptor,
)
from optima_core.plugins.manager import OptimaPluginManager, PluginRecord, create_plugin_manager

__all__ = [
    "BackendDescriptor",
    "ClusterDescriptor",
    "Descriptor",
    "EvaluatorDescriptor",
    "OptimaPluginManager",
    "PlotDescriptor",
    "PluginError",
    "PluginRecord",
    "create_plugin_manager",
]
