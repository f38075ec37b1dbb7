"""Pictures for the cards, drawn as inline SVG: no JavaScript, no network, readable at 640 px.

Every label is escaped; every mark carries a ``<title>`` with its exact figure, shown on hover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from zenbatch import pricing
from zenbatch.reports.html import COLOURS, shorten

WIDTH = 640
ROW = 22  # pixels per timeline or bar row
LABEL = 150  # the width of the labels' column
LABEL_CHARS = 18  # the longest label the heat map writes whole
FONT = "font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:12px"


def _svg(height: int, body: str, label: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' aria-label='{escape(label)}' width='{WIDTH}' "
        f"height='{height}' viewBox='0 0 {WIDTH} {height}' style='{FONT};max-width:100%'>{body}</svg>"
    )


def _text(x: float, y: float, value: str, anchor: str = "start", colour: str = "#323f4b") -> str:
    return f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' fill='{colour}'>{escape(value)}</text>"


def _legend(items: Sequence[tuple[str, str]], y: float) -> str:
    marks, x = [], LABEL
    for name, colour in items:
        marks.append(f"<rect x='{x}' y='{y - 9}' width='10' height='10' rx='2' fill='{colour}'/>" + _text(x + 14, y, name))
        x += 24 + 7 * len(name)
    return "".join(marks)


@dataclass(frozen=True)
class Span:
    """One shard on the timeline: when it was submitted and finished (None: not yet), its state."""

    label: str
    start: float | None
    end: float | None
    status: str
    note: str = ""


def timeline(spans: Sequence[Span], now: float) -> str:
    """Each shard's life as a bar from submission to its end (or now), coloured by its state."""
    started = [s.start for s in spans if s.start is not None]
    if not started:
        return "<div class='legend'>no shard submitted yet</div>"
    origin = min(started)
    finish = max([now if s.end is None and s.start is not None else (s.end or origin) for s in spans] + [origin + 1])
    scale = (WIDTH - LABEL - 70) / (finish - origin)
    marks = []
    for row, span in enumerate(spans):
        y = 18 + row * ROW
        marks.append(_text(LABEL - 8, y + 12, span.label, "end"))
        colour = COLOURS.get(span.status, "#868e96")
        if span.start is None:
            marks.append(f"<rect x='{LABEL}' y='{y + 2}' width='{WIDTH - LABEL - 70}' height='14' rx='3' fill='none' "
                         f"stroke='#adb5bd' stroke-dasharray='4 3'><title>{escape(span.label)}: {escape(span.status)}"
                         f"{escape(span.note)}</title></rect>")  # fmt: skip
            marks.append(_text(LABEL + 6, y + 13, f"{span.status}{span.note}", colour="#616e7c"))
            continue
        x = LABEL + (span.start - origin) * scale
        end = span.end if span.end is not None else now
        width = max(3.0, (end - span.start) * scale)
        took = _duration(end - span.start)
        marks.append(f"<rect x='{x:.1f}' y='{y + 2}' width='{width:.1f}' height='14' rx='3' fill='{colour}'>"
                     f"<title>{escape(span.label)}: {escape(span.status)}, {took}{escape(span.note)}</title></rect>")  # fmt: skip
        caption = took + span.note
        if x + width + 4 + 6.5 * len(caption) <= WIDTH:  # after the bar, or before it when the bar ends near the edge
            marks.append(_text(x + width + 4, y + 13, caption, colour="#52606d"))
        else:
            marks.append(_text(x - 4, y + 13, caption, "end", "#52606d"))
    height = 18 + len(spans) * ROW + 30
    axis = (f"<line x1='{LABEL}' y1='{height - 26}' x2='{WIDTH - 70}' y2='{height - 26}' stroke='#cbd2d9'/>"
            + _text(LABEL, height - 12, "first submission") + _text(WIDTH - 70, height - 12, f"+{_duration(finish - origin)}", "end"))  # fmt: skip
    shown = [(name, COLOURS[name]) for name in dict.fromkeys(s.status for s in spans) if name in COLOURS]
    return _svg(height + 14, "".join(marks) + axis + _legend(shown, height + 10), "shard timeline")


def paired_bars(pairs: Sequence[tuple[str, float | None, float | None, str]], first: str = "estimated", second: str = "actual") -> str:
    """For each figure, two bars on one scale: ``(label, first, second, formatted unit)``."""
    rows = [p for p in pairs if p[1] is not None or p[2] is not None]
    if not rows:
        return ""
    marks = []
    colours = ("#a5d8ff", "#1c7ed6")
    for row, (label, one, two, unit) in enumerate(rows):
        y = 10 + row * (2 * ROW + 10)
        peak = max(one or 0, two or 0) or 1
        marks.append(_text(LABEL - 8, y + 24, label, "end"))
        for offset, (name, value, colour) in enumerate(((first, one, colours[0]), (second, two, colours[1]))):
            top = y + offset * ROW
            shown = "—" if value is None else _figure(value, unit)
            width = 0 if value is None else max(2.0, (WIDTH - LABEL - 200) * value / peak)
            marks.append(f"<rect x='{LABEL}' y='{top + 3}' width='{width:.1f}' height='16' rx='3' fill='{colour}'>"
                         f"<title>{escape(label)}, {escape(name)}: {escape(shown)}</title></rect>")  # fmt: skip
            marks.append(_text(LABEL + width + 6, top + 15, f"{name} {shown}", colour="#52606d"))
        if one and two is not None:
            marks.append(_text(WIDTH - 4, y + 24, f"{100 * two / one:.0f}%", "end", "#1f2933"))
    height = 10 + len(rows) * (2 * ROW + 10) + 24
    return _svg(height, "".join(marks) + _legend([(first, colours[0]), (second, colours[1])], height - 6), f"{first} against {second}")


def heat_map(rows: Sequence[str], columns: Sequence[str], counts: Sequence[Sequence[int]]) -> str:
    """A matrix of counts as shaded cells: green on the diagonal (row label equals column label), red off it."""
    if not rows or not columns:
        return "<div class='legend'>nothing to show</div>"
    cell = max(28.0, min(64.0, (WIDTH - LABEL - 10) / len(columns)))
    peak = max((max(r) for r in counts if r), default=0) or 1
    top = 64
    marks = [_text(LABEL + cell * len(columns) / 2, 12, "predicted", "middle", "#616e7c")]
    for j, column in enumerate(columns):
        x = LABEL + j * cell + cell / 2
        marks.append(f"<text x='{x:.1f}' y='{top - 8}' text-anchor='start' fill='#323f4b' transform='rotate(-35 {x:.1f} {top - 8})'>"
                     f"{escape(shorten(column, LABEL_CHARS))}</text>")  # fmt: skip
    for i, (label, values) in enumerate(zip(rows, counts, strict=False)):
        y = top + i * cell
        marks.append(_text(LABEL - 8, y + cell / 2 + 4, shorten(label, LABEL_CHARS), "end"))
        total = sum(values) or 1
        for j, value in enumerate(values):
            hit = j < len(columns) and columns[j] == label
            shade = 0.06 + 0.86 * value / peak
            fill = f"rgba(47,158,68,{shade:.2f})" if hit else f"rgba(224,49,49,{shade:.2f})"
            x = LABEL + j * cell
            ink = "#ffffff" if shade > 0.55 else "#1f2933"
            marks.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{cell - 2:.1f}' height='{cell - 2:.1f}' rx='3' fill='{fill}'>"
                         f"<title>truth {escape(label)}, predicted {escape(columns[j]) if j < len(columns) else '?'}: "
                         f"{value:,} ({100 * value / total:.0f}% of the row)</title></rect>")  # fmt: skip
            marks.append(_text(x + (cell - 2) / 2, y + cell / 2 + 4, f"{value:,}", "middle", ink))
    height = int(top + len(rows) * cell + 8)
    return _svg(height, _text(6, top + len(rows) * cell / 2, "truth", colour="#616e7c") + "".join(marks), "confusion matrix")


def _figure(value: float, unit: str) -> str:
    return pricing.money(value) if unit == "money" else f"{value:,.0f}{unit}"


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
