"""Errors of a run that are the user's to read, not bugs (the CLI prints them without a traceback)."""


class OptimizationFailedError(RuntimeError):
    """Every trial of a stage failed: there is nothing to select."""
