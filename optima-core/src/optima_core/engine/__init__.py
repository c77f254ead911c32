"""Running an optimization: Ray sessions, output folders, Tune trials and the chain of stages."""
