"""Dead-code check for ``make lint``: vulture over the code and the tests (settings in
pyproject's ``[tool.vulture]``), names only a framework calls in ``vulture_whitelist.py``.

Only functions, methods, classes, properties, imports and unreachable code are reported:
class attributes and variables are mostly declarations that Django, DRF and Celery read by
name (model fields, ``permission_classes``, ``Meta``), which vulture cannot see.
"""

from __future__ import annotations

import sys

from vulture.config import make_config
from vulture.core import Vulture

CHECKED = {"function", "method", "class", "property", "import", "unreachable_code"}


def main() -> int:
    config = make_config(argv=[])
    v = Vulture(ignore_names=config["ignore_names"], ignore_decorators=config["ignore_decorators"])
    v.scavenge(config["paths"], exclude=config["exclude"])
    unused = [
        item
        for item in v.get_unused_code(min_confidence=config["min_confidence"])
        if item.typ in CHECKED
    ]
    for item in unused:
        print(item.get_report())
    if unused:
        print(
            f"{len(unused)} unused name(s): remove them, or add a framework-called one to "
            "scripts/vulture_whitelist.py",
            file=sys.stderr,
        )
    return 1 if unused else 0


if __name__ == "__main__":
    sys.exit(main())
