"""``OPTIMA.builtin.inputs``: the built-in ``InputHandler`` and ``get_inputs``, for run-configs that extend them.

* ``InputHandler`` -- :class:`optima_core.builtin.input_handler.InputHandler` (constructor ``(run_config)``).
* ``get_inputs(run_config, nevts, input_vars_list, disable_printing=False)`` -- the built-in loader,
  :func:`optima_core.inputs.loading.load_event_data`; it returns an in-memory ``EventData`` (columns ``Input``,
  ``Target``, ``Weight``, ``ScaledWeight``, ``EventNumber``) where the original returned a Ray Dataset.
"""

from OPTIMA._compat import export

PROVIDED = {
    "InputHandler": "optima_core.builtin.input_handler:InputHandler",
    "get_inputs": "optima_core.inputs.loading:load_event_data",
}
REPLACED = {
    "get_training_data": "define get_training_data in the run-config, or let the built-in split run "
    "(optima_core.inputs.splitting.split_event_data)",
    "plot_input_data": "input plots are drawn by optima-plots (the figure 'input_data')",
}

__all__ = sorted(PROVIDED)
__getattr__, __dir__ = export(__name__, globals(), PROVIDED, REPLACED)
