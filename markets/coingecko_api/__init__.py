"""A CoinGecko v3 compatible read API under ``/coingecko/api/v3/``, served from our store.

``reads`` builds the bodies (CoinGecko's paths, parameters, field names and types), ``views``
parses the query and answers, ``differences`` lists every documented difference from the
recorded CoinGecko answers (the contract tests and the docs read it).
"""
