"""OPTIMA keras package."""
