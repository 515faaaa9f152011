"""Admin of `streaming`."""
