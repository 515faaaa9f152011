"""Argon2id with OWASP's baseline parameters, read from settings.

Django's ``Argon2PasswordHasher`` uses 100 MiB, t=2 and 8 lanes: about 220 ms of CPU per hash
on this 2-core machine, spread over 8 threads, so a handful of concurrent sign-ins starve every
other request of both cores. OWASP's Password Storage Cheat Sheet lists equivalent Argon2id
configurations; its baseline (19 MiB, t=2, p=1) costs ~28 ms on one core here. The parameters
are settings (``ARGON2_*``): raise them where sign-ins are rare and cores are many.

Same algorithm name (``argon2``) and encoding as Django's hasher, so every stored hash still
verifies; ``must_update`` compares the stored parameters with these, so a hash made with other
parameters is re-hashed on the user's next successful sign-in.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    @property  # type: ignore[override]
    def time_cost(self) -> int:
        return int(settings.ARGON2_TIME_COST)

    @property  # type: ignore[override]
    def memory_cost(self) -> int:
        return int(settings.ARGON2_MEMORY_KIB)

    @property  # type: ignore[override]
    def parallelism(self) -> int:
        return int(settings.ARGON2_PARALLELISM)
