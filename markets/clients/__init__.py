"""Vendor clients: one module per provider, each returning ``markets.contracts`` dataclasses
and raising ``core.http.ProviderError``. Only ``markets.providers`` calls them."""
