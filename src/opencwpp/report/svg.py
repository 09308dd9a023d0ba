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


TREND_WIDTH = 640
TREND_HEIGHT = 180
TREND_AXIS = 24
TREND_TOP = 14


def trend_chart(title: str, columns: list[tuple[str, list[Bar]]], unit: str = "failing") -> Markup:
    """Stacked columns, one per run (label, its bars bottom-up), scaled to the tallest column.

    `unit` names what a column counts in its tooltip ("failing" findings, "alerts" …).
    """
    peak = max((sum(b.value for b in bars) for _, bars in columns), default=0)
    plot = TREND_HEIGHT - TREND_AXIS - TREND_TOP
    step = TREND_WIDTH / max(len(columns), 1)
    width = min(step * 0.6, 48)
    parts = [
        f'<svg class="chart trend" role="img" viewBox="0 0 {TREND_WIDTH} {TREND_HEIGHT}" '
        f'width="{TREND_WIDTH}" height="{TREND_HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="chart-axis" x1="0" x2="{TREND_WIDTH}" y1="{TREND_HEIGHT - TREND_AXIS}" '
        f'y2="{TREND_HEIGHT - TREND_AXIS}"/>',
    ]
    for i, (label, bars) in enumerate(columns):
        x = i * step + (step - width) / 2
        y = float(TREND_HEIGHT - TREND_AXIS)
        total = sum(b.value for b in bars)
        detail = ", ".join(f"{b.label} {b.value}" for b in bars if b.value)
        parts.append(
            f"<g><title>{escape(label)}: {total} {escape(unit)} ({escape(detail)})</title>"
        )
        for bar in bars:
            h = 0.0 if peak == 0 else plot * bar.value / peak
            if h:
                y -= h
                parts.append(
                    f'<rect class="chart-bar {escape(bar.css_class)}" x="{x:.1f}" y="{y:.1f}" '
                    f'width="{width:.1f}" height="{h:.1f}"/>'
                )
        parts.append(
            f'<text class="chart-value" x="{x + width / 2:.1f}" y="{y - 4:.1f}" '
            f'text-anchor="middle">{total}</text>'
            f'<text class="chart-label" x="{x + width / 2:.1f}" y="{TREND_HEIGHT - 8}" '
            f'text-anchor="middle">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
