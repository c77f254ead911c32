"""OPTIMA plots package."""
