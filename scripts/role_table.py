"""Write the role table (which role may call which API route) into docs/roles.md.

The table is generated from the URL conf and each view's DRF permission classes
(``core.routes``); ``tests/test_role_table.py`` fails while the committed table and the code
disagree, so a new or changed endpoint must come with a regenerated table:

    .venv/bin/python scripts/role_table.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "roles.md"
BEGIN, END = "<!-- role-table:begin -->", "<!-- role-table:end -->"


def render() -> str:
    from core.routes import api_routes

    lines = ["| method | route | role | notes |", "|---|---|---|---|"]
    for row in api_routes():
        lines.append(f"| {row.method} | `{row.path}` | {row.role} | {row.notes} |")
    return "\n".join(lines)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    text = DOC.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + render() + "\n" + text[end:])
    print(f"role table written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
