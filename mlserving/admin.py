"""Admin of `mlserving`."""
