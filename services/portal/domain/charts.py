"""Bar charts drawn on the server as inline SVG (issue 13): no script, no CDN, and no style
attribute (the CSP allows styles only from the portal's own files), so colours and sizes are SVG
presentation attributes. Each chart is an image with a title; the table beside it is the
accessible version of the same numbers."""

from markupsafe import Markup, escape

WIDTH = 400
LABEL_SIZE = 22  # the chart scales to the column: 400 wide drawn in about 360 px on a phone gives text of ~20 px
BAR_HEIGHT = 26
GAP = 12
# Dark enough against white for graphics (WCAG 1.4.11: 3:1): 8.6:1 and 5.9:1.
COLOURS = ("#1d4f91", "#00703c", "#9e1b1b")
TEXT = "#1a1a1a"


def number_text(value) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, float) else str(value)


def bar_chart(chart_id: str, title: str, groups: list[tuple[str, list]], series: list[str] | None = None) -> Markup:
    """Horizontal bars: for each group its label on a line, then one bar per series with its value.

    groups: [(label, [value per series])]; series: the names of the series when there are several
    (shown as a key above the bars)."""
    series = series or [""]
    most = max([v or 0 for _, values in groups for v in values] + [0]) or 1
    bar_room = WIDTH - 80  # leave room for the value after the longest bar
    parts, y = [], 8
    if len(series) > 1:
        x = 0
        for index, name in enumerate(series):
            parts.append(f'<rect x="{x}" y="{y}" width="{LABEL_SIZE}" height="{LABEL_SIZE}" fill="{COLOURS[index]}"/>'
                         f'<text x="{x + LABEL_SIZE + 8}" y="{y + LABEL_SIZE - 4}" font-size="{LABEL_SIZE}" '
                         f'fill="{TEXT}">{escape(name)}</text>')
            x += LABEL_SIZE + 24 + LABEL_SIZE * len(name)
        y += LABEL_SIZE + 2 * GAP
    for label, values in groups:
        y += LABEL_SIZE
        parts.append(f'<text x="0" y="{y}" font-size="{LABEL_SIZE}" font-weight="700" fill="{TEXT}">'
                     f'{escape(label)}</text>')
        y += GAP // 2
        for index, value in enumerate(values):
            length = round(bar_room * (value or 0) / most)
            parts.append(f'<rect x="0" y="{y}" width="{max(length, 2)}" height="{BAR_HEIGHT}" '
                         f'fill="{COLOURS[index % len(COLOURS)]}"/>'
                         f'<text x="{max(length, 2) + 10}" y="{y + BAR_HEIGHT - 6}" font-size="{LABEL_SIZE}" '
                         f'fill="{TEXT}">{escape(number_text(value))}</text>')
            y += BAR_HEIGHT + 4
        y += GAP
    height = y + 4
    return Markup(f'<svg class="chart" id="{escape(chart_id)}" xmlns="http://www.w3.org/2000/svg" role="img" '
                  f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
                  f'aria-labelledby="{escape(chart_id)}-title">'
                  f'<title id="{escape(chart_id)}-title">{escape(title)}</title>{"".join(parts)}</svg>')
