"""Admin of `markets`."""
