"""Server-side SVG charts; each page shows the same data as a table beside the chart (RGAA).

No script and no external library: the SVG is built as text with escaped labels. Colours pass
WCAG contrast against white and are never the only carrier of meaning (a letter marks each
status in the calendar, suppressed cells are hatched and labelled).
"""

from __future__ import annotations

from html import escape
from typing import Any

STATUS_STYLE = {
    "trace": ("#1d6f42", "T"),
    "no_trace": ("#8a4b08", "—"),
    "disputed": ("#6a1b9a", "C"),
    "out_of_scope": ("#595959", "·"),
    "declared": ("#0b5394", "D"),
}


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def calendar(days: list[str], cells: dict[tuple[str, str], str], title: str) -> str:
    """One column per day, two rows (morning, afternoon), coloured and lettered by status."""
    size, gap, left, top = 26, 4, 34, 30
    width = left + len(days) * (size + gap) + 10
    height = top + 2 * (size + gap) + 10
    body = [
        f'<text x="2" y="{top + size - 8}" font-size="11">AM</text>',
        f'<text x="2" y="{top + 2 * size + gap - 8}" font-size="11">PM</text>',
    ]
    for i, day in enumerate(days):
        x = left + i * (size + gap)
        body.append(f'<text x="{x + 3}" y="{top - 8}" font-size="10">{escape(day[-2:])}</text>')
        for j, half in enumerate(("AM", "PM")):
            status = cells.get((day, half))
            y = top + j * (size + gap)
            if status is None:
                body.append(
                    f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="#f2f2f2" stroke="#bbb"/>'
                )
                continue
            colour, letter = STATUS_STYLE[status]
            body.append(f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="{colour}"/>')
            body.append(
                f'<text x="{x + size / 2}" y="{y + size / 2 + 4}" font-size="12" fill="#fff" '
                f'text-anchor="middle">{letter}</text>'
            )
    return _svg(width, height, body, title)


def heatmap(
    groups: list[str], periods: list[str], values: dict[tuple[str, str], Any], title: str
) -> str:
    """Groups × periods, shaded by share of half-days with a trace; suppressed cells hatched."""
    cw, ch, left, top = 64, 24, 210, 40
    width = left + len(periods) * cw + 10
    height = top + len(groups) * ch + 10
    body = [
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#777" stroke-width="2"/></pattern></defs>'
    ]
    for j, period in enumerate(periods):
        body.append(
            f'<text x="{left + j * cw + 4}" y="{top - 10}" font-size="10">{escape(period[-8:])}</text>'
        )
    for i, group in enumerate(groups):
        y = top + i * ch
        body.append(f'<text x="4" y="{y + 16}" font-size="11">{escape(group[:30])}</text>')
        for j, period in enumerate(periods):
            x = left + j * cw
            value = values.get((group, period))
            if value is None:
                continue
            if value == "suppressed":
                body.append(
                    f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" fill="url(#hatch)"/>'
                )
                body.append(f'<text x="{x + 4}" y="{y + 16}" font-size="9">masqué</text>')
                continue
            share = float(value)
            shade = int(235 - 160 * share)
            colour = f"rgb({shade},{min(255, shade + 40)},{shade})"
            text = "#fff" if share > 0.55 else "#111"
            body.append(
                f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" fill="{colour}"/>'
            )
            body.append(
                f'<text x="{x + 6}" y="{y + 16}" font-size="11" fill="{text}">{share:.0%}</text>'
            )
    return _svg(width, height, body, title)


def coverage(rows: list[dict[str, Any]], threshold: float, title: str) -> str:
    """Horizontal bars of coverage by job family, with the reliability threshold drawn."""
    bar, gap, left, scale = 22, 8, 170, 400
    shown = [r for r in rows if not r.get("suppressed")]
    height = 20 + len(shown) * (bar + gap) + 20
    body = []
    for i, r in enumerate(shown):
        y = 20 + i * (bar + gap)
        value = float(r["coverage"])
        colour = "#1d6f42" if r["reliable"] else "#8a4b08"
        body.append(
            f'<text x="4" y="{y + 15}" font-size="12">{escape(str(r["job_family"]))}</text>'
        )
        body.append(
            f'<rect x="{left}" y="{y}" width="{value * scale:.1f}" height="{bar}" fill="{colour}"/>'
        )
        label = f"{value:.0%}" + ("" if r["reliable"] else " (non fiable)")
        body.append(
            f'<text x="{left + value * scale + 6:.1f}" y="{y + 15}" font-size="12">{escape(label)}</text>'
        )
    x = left + threshold * scale
    body.append(
        f'<line x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="{height - 10}" stroke="#000" stroke-dasharray="4 3"/>'
    )
    body.append(
        f'<text x="{x + 4:.1f}" y="{height - 2}" font-size="11">seuil {threshold:.0%}</text>'
    )
    return _svg(left + scale + 120, height, body, title)
