"""Models of `alerts`."""
