"""Small server-drawn SVG charts (no JavaScript, no CDN): they print as they look on screen.

Every mark carries ``data-label`` and ``data-value`` so a test can read the numbers back.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, title: str, width: int = 560, bar: int = 22
) -> Markup:
    """Horizontal bars, one per label, with the value written at the end of each bar; ``title`` names
    the chart for screen readers."""
    if not values:
        return Markup('<p class="muted chart-empty">–</p>')
    label_w, gap = 150, 6
    top = max(values) or 1
    height = len(values) * (bar + gap) + gap
    parts = [
        f'<svg class="chart bar-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = gap + i * (bar + gap)
        w = (width - label_w - 60) * (value / top)
        text = escape(str(label))
        parts.append(
            f'<g class="bar" data-label="{text}" data-value="{value}">'
            f'<text x="{label_w - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end">{text}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" rx="3"></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + bar * 0.7:.1f}">{value}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    labels: Sequence[str], values: Sequence[float], *, title: str, width: int = 560, height: int = 180
) -> Markup:
    """A trend line with a dot and the value at each point, labels along the bottom; ``title`` names
    the chart for screen readers."""
    if not values:
        return Markup('<p class="muted chart-empty">–</p>')
    left, right, top_pad, bottom = 30, 20, 20, 30
    top = max(values) or 1
    step = (width - left - right) / max(len(values) - 1, 1)
    points = [
        (left + i * step, top_pad + (height - top_pad - bottom) * (1 - v / top)) for i, v in enumerate(values)
    ]
    parts = [
        f'<svg class="chart line-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width - right}" '
        f'y2="{height - bottom}"></line>',
        '<polyline fill="none" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        + '"></polyline>',
    ]
    for (x, y), label, value in zip(points, labels, values, strict=True):
        text = escape(str(label))
        parts.append(
            f'<g class="point" data-label="{text}" data-value="{value}">'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5"></circle>'
            f'<text x="{x:.1f}" y="{y - 7:.1f}" text-anchor="middle">{value}</text>'
            f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" class="tick">{text}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
