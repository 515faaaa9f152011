"""Models of `streaming`."""
