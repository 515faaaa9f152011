"""``manage.py evaluate_sentiment [--data FILE] [--out report.md]``: honest scorer figures.

Ours (fitted fold by fold, never scored on its own training rows), live VADER, a
majority-class baseline and the scores recorded in the CryptoLin file, on the same rows.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.progress import progress
from news.sentiment.training import evaluate, read_cryptolin

DEFAULT = "news/labeled/CryptoLin_IE.original.csv"


def markdown(report: dict) -> str:
    lines = [
        f"Rows: {report['rows']} ({', '.join(f'{k} {v}' for k, v in report['classes'].items())})",
        "",
    ]
    for key, title in (
        ("cv", f"{report['cv']['folds']}-fold stratified cross-validation (seed 0)"),
        (
            "chronological",
            "chronological split: train "
            f"{report['chronological']['train']}, test {report['chronological']['test']}",
        ),
    ):
        lines += [f"**{title}**", "", "| scorer | accuracy | macro-F1 | n |", "|---|---|---|---|"]
        for name, m in report[key]["results"].items():
            lines.append(f"| {name} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {m['n']} |")
        lines.append("")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Accuracy and macro-F1 of the sentiment scorer vs VADER, majority and recorded scores."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--data", default=None, help=f"Default: $CRYPTOCAST_SAMPLE_DATA/{DEFAULT}"
        )
        parser.add_argument("--out", default=None, help="Write the Markdown table here")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of Markdown")
        parser.add_argument("--folds", type=int, default=5)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        path = (
            Path(options["data"])
            if options["data"]
            else (Path(settings.CRYPTOCAST_SAMPLE_DATA or ".") / DEFAULT)
        )
        if not path.is_file():
            raise CommandError(f"{path} not found (give --data)")
        if not 2 <= options["folds"] <= 20:
            raise CommandError("--folds must be between 2 and 20")
        try:
            rows = read_cryptolin(path)
        except (KeyError, ValueError) as exc:
            raise CommandError(f"{path} is not the CryptoLin file: {exc}") from exc
        with progress(total=options["folds"] + 1, desc="fits", unit="fit") as bar:
            report = evaluate(rows, folds=options["folds"], progress=bar.update)
        text = json.dumps(report, indent=2) if options["json"] else markdown(report)
        self.stdout.write(text)
        if options["out"]:
            Path(options["out"]).write_text(markdown(report) + "\n")
