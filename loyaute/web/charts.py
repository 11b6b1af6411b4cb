"""Server-side SVG charts; each page shows the same data as a table beside the chart (RGAA).

No script and no external library: the SVG is built as text with escaped labels. Colours pass
WCAG contrast and are never the only carrier of meaning: a letter marks each status in the
calendar, suppressed cells are hatched and labelled, every colour is in a legend (``LEGEND``,
drawn by the page in HTML). "No digital trace recorded" is drawn in a neutral grey, never in a
warning colour: it is not a fault.

The calendar is one small chart per week, so that on a phone the weeks stack into a list.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import Any

from loyaute import labels
from loyaute.i18n import tr

STATUS_STYLE = {
    # status: (fill, letter, letter colour)
    "trace": ("#1d6f42", "T", "#ffffff"),
    "no_trace": ("#dfe3e8", "—", "#1b1b1b"),
    "disputed": ("#6a1b9a", "C", "#ffffff"),
    "out_of_scope": ("#ffffff", "·", "#1b1b1b"),
}
EMPTY = "#f6f6f6"


def legend_items() -> list[tuple[str, str, str]]:
    """(css class, letter, label) of each colour of the calendar."""
    return [
        (f"swatch-{status}", letter, labels.label("status", status))
        for status, (_, letter, _c) in STATUS_STYLE.items()
    ] + [("swatch-empty", "", tr("pas de télétravail conservé", "no telework half-day kept"))]


def _svg(width: int, height: int, body: list[str], title: str, css: str = "") -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet"'
        + (f' class="{css}"' if css else "")
        + f"><title>{escape(title)}</title>"
        + "".join(body)
        + "</svg>"
    )


def calendar(days: list[str], cells: dict[tuple[str, str], str], title: str) -> str:
    """One small chart per week (Monday to Sunday), two rows (morning, afternoon), coloured and
    lettered by status; the weeks sit side by side on a wide screen and stack on a phone."""
    if not days:
        return ""
    first = date.fromisoformat(days[0])
    last = date.fromisoformat(days[-1])
    monday = first - timedelta(days=first.weekday())
    shown = set(days)
    weeks = []
    while monday <= last:
        weeks.append(_week(monday, shown, cells))
        monday += timedelta(days=7)
    return (
        f'<div class="calendar" role="group" aria-label="{escape(title)}">'
        + "".join(weeks)
        + "</div>"
    )


def _week(monday: date, shown: set[str], cells: dict[tuple[str, str], str]) -> str:
    size, gap, left, top = 34, 4, 92, 44
    width = left + 7 * (size + gap)
    height = top + 2 * (size + gap) + 2
    halves = (("AM", labels.label("half", "AM")), ("PM", labels.label("half", "PM")))
    body = [
        f'<text x="2" y="{top + j * (size + gap) + size / 2 + 5}" font-size="13" '
        f'fill="#1b1b1b">{escape(text)}</text>'
        for j, (_, text) in enumerate(halves)
    ]
    for i in range(7):
        day = monday + timedelta(days=i)
        x = left + i * (size + gap)
        weekday, number = [*labels.day(day, "short").split(), ""][:2]  # "jeu." "3"
        # Two lines: "mar. 15" on one would overlap its neighbours in a 38-unit column.
        body.append(
            f'<text x="{x + size / 2}" y="{top - 22}" font-size="12" text-anchor="middle" '
            f'fill="#1b1b1b">{escape(weekday)}</text>'
            f'<text x="{x + size / 2}" y="{top - 8}" font-size="12" text-anchor="middle" '
            f'fill="#1b1b1b">{escape(number)}</text>'
        )
        for j, (half, _) in enumerate(halves):
            y = top + j * (size + gap)
            status = cells.get((day.isoformat(), half)) if day.isoformat() in shown else None
            if status is None:
                body.append(
                    f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="{EMPTY}" '
                    f'stroke="#c8c8c8"/>'
                )
                continue
            fill, letter, ink = STATUS_STYLE[status]
            body.append(
                f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="{fill}" '
                f'stroke="#595959"/>'
            )
            body.append(
                f'<text x="{x + size / 2}" y="{y + size / 2 + 5}" font-size="15" fill="{ink}" '
                f'text-anchor="middle">{letter}</text>'
            )
    title = labels.week(f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}")
    return _svg(width, height, body, title[:1].upper() + title[1:], "week")


SCALE = [(0.0, "#f3f7f4"), (0.25, "#c9e3d2"), (0.5, "#8cc3a0"), (0.75, "#3d8f5e"), (0.9, "#1d6f42")]
"""Shares with a trace, from the lower bound of each step: a light-to-dark green scale."""


def shade(share: float) -> tuple[str, str]:
    """Fill and text colour of a share on the scale."""
    fill = SCALE[0][1]
    for bound, colour in SCALE:
        if share >= bound:
            fill = colour
    ink = "#ffffff" if share >= 0.75 else "#1b1b1b"
    return fill, ink


def scale_items() -> list[tuple[str, str]]:
    """(css class, label) of each step of the heatmap's scale, and the hatch."""
    items = []
    for i, (bound, _) in enumerate(SCALE):
        upper = SCALE[i + 1][0] if i + 1 < len(SCALE) else None
        text = (
            tr(
                f"de {labels.percent(bound)} à moins de {labels.percent(upper)}",
                f"{labels.percent(bound)} to under {labels.percent(upper)}",
            )
            if upper is not None
            else tr(f"{labels.percent(bound)} ou plus", f"{labels.percent(bound)} or more")
        )
        items.append((f"scale-{i}", text))
    items.append(
        (
            "scale-hatch",
            tr("masqué (secret statistique)", "suppressed (statistical disclosure control)"),
        )
    )
    return items


def heatmap(
    rows: list[str],
    columns: list[str],
    values: dict[tuple[str, str], Any],
    title: str,
    row_label: Any = str,
    column_label: Any = str,
) -> str:
    """Rows × columns, shaded by the share of half-days with a trace (the scale is drawn by the
    page as a legend); suppressed cells hatched and labelled."""
    cw, ch, top = 96, 34, 44
    left = min(240, 12 + 7 * max((len(row_label(r)) for r in rows), default=8))
    width = left + len(columns) * cw + 10
    height = top + len(rows) * ch + 10
    body = [
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eeeeee"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#767676" stroke-width="2"/></pattern></defs>'
    ]
    for j, column in enumerate(columns):
        body.append(
            f'<text x="{left + j * cw + (cw - 2) / 2}" y="{top - 12}" font-size="13" '
            f'text-anchor="middle" fill="#1b1b1b">{escape(column_label(column))}</text>'
        )
    for i, row in enumerate(rows):
        y = top + i * ch
        body.append(
            f'<text x="4" y="{y + 21}" font-size="13" fill="#1b1b1b">'
            f"{escape(row_label(row)[:34])}</text>"
        )
        for j, column in enumerate(columns):
            x = left + j * cw
            value = values.get((row, column))
            if value is None:
                continue
            if value == "suppressed":
                body.append(
                    f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" fill="url(#hatch)"/>'
                )
                body.append(
                    f'<text x="{x + (cw - 2) / 2}" y="{y + 21}" font-size="12" '
                    f'text-anchor="middle" fill="#1b1b1b">{escape(tr("masqué", "suppressed"))}</text>'
                )
                continue
            share = float(value)
            fill, ink = shade(share)
            body.append(
                f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" fill="{fill}" '
                f'stroke="#595959"/>'
            )
            body.append(
                f'<text x="{x + (cw - 2) / 2}" y="{y + 21}" font-size="13" fill="{ink}" '
                f'text-anchor="middle">{escape(labels.percent(share))}</text>'
            )
    return _svg(width, height, body, title)


def coverage(rows: list[dict[str, Any]], threshold: float, title: str) -> str:
    """Horizontal bars of coverage by job family, with the threshold of sufficient coverage drawn;
    a family below it is drawn in grey and labelled (not in a warning colour)."""
    bar, gap, scale = 24, 10, 300
    shown = [r for r in rows if not r.get("suppressed")]
    left = min(220, 12 + 7 * max((len(str(r["job_family"])) for r in shown), default=8))
    height = 24 + len(shown) * (bar + gap) + 24
    body = []
    for i, r in enumerate(shown):
        y = 20 + i * (bar + gap)
        value = float(r["coverage"])
        colour = "#1d6f42" if r["reliable"] else "#767676"
        body.append(
            f'<text x="4" y="{y + 17}" font-size="13" fill="#1b1b1b">'
            f"{escape(str(r['job_family'])[:30])}</text>"
        )
        body.append(
            f'<rect x="{left}" y="{y}" width="{value * scale:.1f}" height="{bar}" fill="{colour}"/>'
        )
        label = labels.percent(value) + (
            "" if r["reliable"] else " " + tr("(insuffisante)", "(insufficient)")
        )
        body.append(
            f'<text x="{left + value * scale + 6:.1f}" y="{y + 17}" font-size="13" '
            f'fill="#1b1b1b">{escape(label)}</text>'
        )
    x = left + threshold * scale
    body.append(
        f'<line x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="{height - 16}" stroke="#000000" '
        f'stroke-dasharray="4 3"/>'
    )
    body.append(
        f'<text x="{x:.1f}" y="{height - 3}" font-size="12" text-anchor="middle" fill="#1b1b1b">'
        f"{escape(tr('seuil', 'threshold'))} {escape(labels.percent(threshold))}</text>"
    )
    return _svg(left + scale + 150, height, body, title)
