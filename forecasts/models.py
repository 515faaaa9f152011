"""Models of `forecasts`."""
