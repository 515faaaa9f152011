"""Small charts drawn on the server as SVG geometry (no JavaScript, no inline styles).

The template draws rectangles and a polyline from these numbers; colours come from CSS
classes, so the charts follow the light and dark themes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 600, 160
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 36, 8, 8, 22


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class SentimentChart:
    width: int
    height: int
    bars: list[Bar]
    zero_y: float
    top_y: float
    bottom_y: float
    left: int
    right: int
    first_label: str
    last_label: str


def sentiment_chart(days: list[dict[str, Any]]) -> SentimentChart | None:
    """Bars of the mean sentiment score per day (-1..1) around a zero line."""
    if not days:
        return None
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    mid = PAD_TOP + inner_h / 2
    scale = max(max(abs(d["mean_score"]) for d in days), 0.05)
    slot = inner_w / len(days)
    bars = []
    for i, d in enumerate(days):
        score = d["mean_score"]
        h = abs(score) / scale * (inner_h / 2)
        css = "pos" if score > 0 else "neg" if score < 0 else "flat"
        bars.append(
            Bar(
                x=round(PAD_LEFT + i * slot + slot * 0.1, 1),
                y=round(mid - h if score > 0 else mid, 1),
                width=round(max(slot * 0.8, 1.0), 1),
                height=round(max(h, 1.0), 1),
                css=css,
                title=(
                    f"{d['day']}: mean {score:+.3f} over {d['count']} article(s) "
                    f"({d['positive']} positive, {d['neutral']} neutral, {d['negative']} negative)"
                ),
            )
        )
    return SentimentChart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        zero_y=round(mid, 1),
        top_y=PAD_TOP,
        bottom_y=HEIGHT - PAD_BOTTOM,
        left=PAD_LEFT,
        right=WIDTH - PAD_RIGHT,
        first_label=str(days[0]["day"]),
        last_label=str(days[-1]["day"]),
    )
