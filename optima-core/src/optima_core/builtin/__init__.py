"""The core's built-in hook implementations, registered as a plugin like any other."""
