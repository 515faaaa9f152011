"""Build the README's settings table and `.env.example` from the rows the docs already hold.

Rows are `| VAR | meaning | embedded default | production |` lines in `docs/*.md`
(`docs/platform.md` for the core ones). Run `python scripts/settings_table.py` after adding
a setting; `tests/test_platform.py` fails while a setting read by `config/settings` is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- settings-table:begin -->", "<!-- settings-table:end -->"


ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]+)`(?: / `[A-Z0-9_]+`)* \|")


def rows() -> dict[str, str]:
    found: dict[str, str] = {}
    sources = [p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))]
    for text in sources:
        for line in text.splitlines():
            line = line.strip()
            if not ROW.match(line):
                continue
            first_cell = line.strip("|").split("|")[0]
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell):
                found.setdefault(name, line)
    return found


def settings_read() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        names |= set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', path.read_text()))
    return names


def main() -> None:
    table = rows()
    missing = settings_read() - set(table)
    if missing:
        raise SystemExit("no table row for: " + ", ".join(sorted(missing)))
    header = "| variable | meaning | embedded default | production |\n|---|---|---|---|\n"
    unique_rows = list(dict.fromkeys(table[name] for name in sorted(table)))
    body = "\n".join(unique_rows)
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    readme.write_text(text[:start] + "\n" + header + body + "\n" + text[end:])
    lines = [
        "# Every environment variable cryptocast reads (see the README's settings table).",
        "# Copy to .env and fill in. Unset variables take the embedded default.",
        "",
    ]
    for row in unique_rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        lines.append(f"# {cells[1]} (production: {cells[3]})")
        for var in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
            lines.append(f"#{var}=")
        lines.append("")
    (ROOT / ".env.example").write_text("\n".join(lines))
    print(f"{len(table)} settings written to README.md and .env.example")


if __name__ == "__main__":
    main()
