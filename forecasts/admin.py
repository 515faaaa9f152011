"""Admin of `forecasts`."""
