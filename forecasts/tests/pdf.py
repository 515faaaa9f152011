"""Looking at a PDF the way a reader does, with poppler (``pdfinfo``, ``pdftotext``,
``pdftoppm``; Debian's poppler-utils, installed by .ci/run). Without poppler the PDF tests
skip, except in CI (``CRYPTOCAST_CI``), where a missing tool is a failure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CRYPTOCAST_CI"):
            pytest.fail(f"{name} (poppler-utils) is not installed")
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def _run(tool: str, *args: str, stdin: bytes) -> bytes:
    done = subprocess.run(
        [_tool(tool), *args], input=stdin, capture_output=True, timeout=60, check=True
    )
    return done.stdout


def page_count(pdf: bytes) -> int:
    info = _run("pdfinfo", "-", stdin=pdf).decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def page_text(pdf: bytes, page: int) -> str:
    return _run(
        "pdftotext", "-layout", "-f", str(page), "-l", str(page), "-", "-", stdin=pdf
    ).decode()


def render_png(pdf: bytes, page: int, out: Path) -> Path:
    """Page ``page`` as a PNG at 40 dpi (what a person would look at)."""
    stem = out.with_suffix("")
    _run(
        "pdftoppm",
        "-png",
        "-r",
        "40",
        "-f",
        str(page),
        "-l",
        str(page),
        "-singlefile",
        "-",
        str(stem),
        stdin=pdf,
    )
    return stem.with_suffix(".png")


def looks_drawn(png: Path) -> bool:
    """A PNG with a header and enough non-white pixels to be a chart, not an empty page."""
    from PIL import Image

    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(png).convert("L")
    dark = sum(1 for v in image.getdata() if v < 200)
    return dark > 0.01 * image.width * image.height
