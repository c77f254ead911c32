"""OPTIMA slurm package."""
