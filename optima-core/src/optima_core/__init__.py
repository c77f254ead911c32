"""OPTIMA core: the run-config, the plugin system, the ``optima`` CLI and the optimization engine.

Import-light on purpose: nothing here imports Ray, Optuna, torch, TensorFlow or matplotlib, so that
``optima --help`` and ``optima plugins`` answer at once. Heavy libraries are imported where they are used.
"""

__version__ = "0.1.0"
