"""Models of `markets`."""
