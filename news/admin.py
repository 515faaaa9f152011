"""Admin of `news`."""
