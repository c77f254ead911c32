"""Places to run on: this machine (``local``); cluster plugins add more."""
