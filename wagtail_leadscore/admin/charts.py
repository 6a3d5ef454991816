"""Charts rendered on the server as inline SVG: no JavaScript library, nothing from a CDN,
and the figures readable without a browser (a <title> and a text summary)."""

from django.utils.html import format_html

WIDTH, HEIGHT, MARGIN = 640, 160, 32


def line_chart(series, title):
    """An SVG line of ``series``, a list of (label, number) in order, e.g. dates and a
    running total; the first and last labels and the range are written on the axes."""
    if not series:
        return ""
    values = [value for _, value in series]
    low, high = min(0, *values), max(0, *values)
    span = (high - low) or 1
    step = (WIDTH - 2 * MARGIN) / max(len(series) - 1, 1)

    def point(index, value):
        x = MARGIN + index * step
        y = HEIGHT - MARGIN - (value - low) * (HEIGHT - 2 * MARGIN) / span
        return f"{x:.1f},{y:.1f}"

    points = " ".join(point(index, value) for index, value in enumerate(values))
    bottom = HEIGHT - MARGIN
    return format_html(
        '<svg class="leadscore-chart" role="img" viewBox="0 0 {w} {h}" width="100%"'
        ' preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        "<title>{title}</title>"
        '<line x1="{m}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="currentColor"'
        ' stroke-opacity="0.3"/>'
        '<polyline points="{points}" fill="none" stroke="currentColor" stroke-width="2"/>'
        '<text x="{m}" y="{h}" font-size="11" fill="currentColor">{first}</text>'
        '<text x="{right}" y="{h}" font-size="11" fill="currentColor"'
        ' text-anchor="end">{last}</text>'
        '<text x="2" y="{top}" font-size="11" fill="currentColor">{high}</text>'
        '<text x="2" y="{bottom}" font-size="11" fill="currentColor">{low}</text>'
        "</svg>",
        w=WIDTH, h=HEIGHT, m=MARGIN, right=WIDTH - MARGIN, bottom=bottom, top=MARGIN,
        title=title, points=points, first=series[0][0], last=series[-1][0],
        high=high, low=low)
