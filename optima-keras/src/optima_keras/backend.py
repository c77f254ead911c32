"""The Keras backend as the engine sees it: its name and the frameworks it needs.

The training interface (build, train one epoch, evaluate, save, restore) is added with the trainable.
"""

from __future__ import annotations


class KerasBackend:
    """Trains Keras models for OPTIMA."""

    name = "Keras"
    frameworks = ("keras", "tensorflow")
