"""Models of `news`."""
