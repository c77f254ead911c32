"""OPTIMA plots plugin: hook implementations registered through the `optima` entry point."""
