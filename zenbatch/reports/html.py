"""The building blocks of the cards: a page, a table, figures and a bar of parts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from zenbatch import pricing

_STYLE = """
body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:16px;color:#1f2933}
h1{font-size:20px;margin:0 0 4px} h2{font-size:15px;margin:20px 0 6px;color:#323f4b}
.sub{color:#616e7c;font-size:13px;margin-bottom:12px}
.figs{display:flex;flex-wrap:wrap;gap:10px}
.fig{border:1px solid #d9e2ec;border-radius:6px;padding:8px 12px;min-width:110px}
.fig b{display:block;font-size:18px} .fig span{color:#616e7c;font-size:12px}
table{border-collapse:collapse;font-size:13px;margin-top:4px}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f5f7fa} td.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:flex;height:18px;border-radius:4px;overflow:hidden;max-width:640px;margin:6px 0}
.bar div{height:100%} .legend{font-size:12px;color:#52606d}
.legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;border-radius:2px}
.warning{background:#fff4e5;border-left:4px solid #f0a020;padding:6px 10px;margin:4px 0}
code{font-size:12px;background:#f5f7fa;padding:1px 3px;border-radius:3px}
"""
# One colour per status of a row or a shard, for the bars and the pictures alike.
COLOURS = {
    "succeeded": "#2f9e44", "completed": "#2f9e44", "failed": "#e03131", "missing": "#868e96",
    "expired": "#f08c00", "cancelled": "#adb5bd", "validating": "#74c0fc", "in_progress": "#1c7ed6",
    "finalizing": "#1971c2", "cancelling": "#ced4da", "pending": "#ced4da",
}  # fmt: skip
_PALETTE = ["#1c7ed6", "#2f9e44", "#f08c00", "#ae3ec9", "#e03131", "#0c8599", "#868e96"]


def text(value: Any) -> str:
    """A value as escaped text; None as an em dash."""
    return "—" if value is None else escape(str(value))


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def money(value: float | None, currency: str = "USD") -> str:
    return escape(pricing.money(value, currency))


def shorten(value: Any, limit: int) -> str:
    """A value as text of at most ``limit`` characters, cut with an ellipsis; None (or NaN) as nothing."""
    raw = "" if value is None or value != value else str(value)
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


def clip(value: Any, limit: int = 160) -> str:
    """:func:`shorten`, escaped for a card."""
    return text(shorten(value, limit))


def page(title: str, subtitle: str, *sections: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{text(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{text(title)}</h1><div class='sub'>{subtitle}</div>" + "".join(sections) + "</body></html>"
    )


def section(heading: str, *parts: str) -> str:
    return f"<h2>{text(heading)}</h2>" + "".join(parts)


def figures(items: Iterable[tuple[str, str]]) -> str:
    """Big numbers with a caption; values are already formatted (escaped) strings."""
    return "<div class='figs'>" + "".join(f"<div class='fig'><b>{v}</b><span>{text(k)}</span></div>" for k, v in items) + "</div>"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    """A table; cells are escaped unless given as ``Raw``."""
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for position, cell in enumerate(row):
            shown = cell.html if isinstance(cell, Raw) else text(cell)
            cells.append(f"<td class='num'>{shown}</td>" if position in numeric else f"<td>{shown}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


class Raw:
    """Markup already escaped, to put in a table cell as is."""

    def __init__(self, html: str):
        self.html = html


def parts_bar(parts: dict[str, int]) -> str:
    """A horizontal bar split by counts, with a legend."""
    total = sum(parts.values())
    if total <= 0:
        return "<div class='legend'>nothing yet</div>"
    blocks, legend = [], []
    for position, (name, count) in enumerate(parts.items()):
        colour = COLOURS.get(name, _PALETTE[position % len(_PALETTE)])
        if count:
            blocks.append(f"<div style='width:{100 * count / total:.3f}%;background:{colour}' title='{text(name)}: {count}'></div>")
        legend.append(f"<i style='background:{colour}'></i>{text(name)} {count:,} ({100 * count / total:.1f}%)")
    return f"<div class='bar'>{''.join(blocks)}</div><div class='legend'>{''.join(legend)}</div>"
