"""OPTIMA lightning package."""
