"""Admin of `alerts`."""
