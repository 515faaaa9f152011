"""Models of `mlserving`."""
