"""Serializers of `markets`, split by sub-domain like the views in ``markets.apis`` (read shapes
and query validation only: writes go through services)."""
