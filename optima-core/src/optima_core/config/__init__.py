"""Run-config loading, defaults and validation."""
