"""``OPTIMA.builtin``: the original's built-in run-config components (:mod:`OPTIMA.builtin.inputs`)."""
