"""Horizontal bar charts as inline SVG, computed in Python so the HTML report needs no JavaScript.

Every text in the chart goes through `markupsafe.escape`; colours come from CSS classes, so the
page's Content-Security-Policy needs no inline style attributes.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

ROW_HEIGHT = 26
BAR_HEIGHT = 16
LABEL_WIDTH = 130
BAR_AREA = 300
VALUE_WIDTH = 50


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its label, value and the CSS class that colours it."""

    label: str
    value: int
    css_class: str


def bar_chart(title: str, bars: list[Bar]) -> Markup:
    """Draws `bars` as a labelled horizontal bar chart scaled to the largest value."""
    peak = max((b.value for b in bars), default=0)
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    height = max(len(bars), 1) * ROW_HEIGHT
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, bar in enumerate(bars):
        y = i * ROW_HEIGHT
        mid = y + ROW_HEIGHT / 2
        top = y + (ROW_HEIGHT - BAR_HEIGHT) / 2
        length = 0.0 if peak == 0 else BAR_AREA * bar.value / peak
        if bar.value and length < 2:
            length = 2.0  # a non-zero value stays visible
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 10}" y="{mid:.1f}" '
            f'text-anchor="end" dominant-baseline="central">{escape(bar.label)}</text>'
            f'<rect class="chart-track" x="{LABEL_WIDTH}" y="{top:.1f}" '
            f'width="{BAR_AREA}" height="{BAR_HEIGHT}" rx="3"/>'
            f'<rect class="chart-bar {escape(bar.css_class)}" x="{LABEL_WIDTH}" '
            f'y="{top:.1f}" width="{length:.1f}" '
            f'height="{BAR_HEIGHT}" rx="3"/>'
            f'<text class="chart-value" x="{LABEL_WIDTH + length + 6:.1f}" y="{mid:.1f}" '
            f'dominant-baseline="central">{bar.value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
