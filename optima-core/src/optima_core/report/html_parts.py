"""Small HTML builders of the report: escaped text, tables, inline PNG images, "left out" lines, sections.

Cells and texts are escaped unless wrapped in :class:`Raw` (HTML built by these helpers). Images are embedded as
base64 ``data:`` URIs, so the page is one file that works offline and when mailed; a figure that is not on disk is
never an ``<img>``: :func:`figure` gives the one line saying why it is missing instead.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

#: PNG files start with these bytes; anything else is not embedded (a browser could not show it).
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Raw(str):
    """Text that already is HTML (not escaped again)."""


def esc(value: Any) -> str:
    """``value`` as escaped HTML text (:class:`Raw` as it is)."""
    if isinstance(value, Raw):
        return str(value)
    return html.escape(number(value) if isinstance(value, float) else str(value))


def number(value: float, digits: int = 6) -> str:
    """A float to ``digits`` significant digits; non-finite ones as written."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def attributes(**values: Any) -> str:
    """`` name="value"`` pairs (``data_x`` becomes ``data-x``), leaving out ``None``."""
    return "".join(
        f' {key.rstrip("_").replace("_", "-")}="{html.escape(str(value), quote=True)}"'
        for key, value in values.items()
        if value is not None
    )


def table(headers: Sequence[Any], rows: Iterable[Sequence[Any]], **attrs: Any) -> str:
    """A ``<table>`` with a header row; each cell escaped unless :class:`Raw`."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cell_html(c) for c in row) + "</tr>" for row in rows)
    return f"<table{attributes(**attrs)}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def cell_html(cell: Any) -> str:
    """A ``<td>``: a cell that is already a ``<td ...>`` element (:func:`cell`) is kept, anything else wrapped."""
    if isinstance(cell, Raw) and cell.startswith("<td"):
        return str(cell)
    return f"<td>{esc(cell)}</td>"


def cell(content: Any, **attrs: Any) -> Raw:
    """A ``<td>`` with attributes (``data_*`` for tests and scripts)."""
    return Raw(f"<td{attributes(**attrs)}>{esc(content)}</td>")


def missing(reason: str) -> Raw:
    """The one line that stands for something left out of the report, saying why."""
    return Raw(f'<p class="missing">{esc(reason)}</p>')


def png_data_uri(path: Path) -> str | None:
    """``data:image/png;base64,...`` of the PNG file ``path``; ``None`` if it is missing, empty or not a PNG."""
    try:
        content = path.read_bytes()
    except OSError:
        return None
    if not content.startswith(PNG_SIGNATURE):
        return None
    return "data:image/png;base64," + base64.b64encode(content).decode("ascii")


def figure(path: Path, caption: str, why_missing: str) -> Raw:
    """The PNG at ``path`` inline with its caption, or the line ``why_missing`` when there is no usable file."""
    uri = png_data_uri(path)
    if uri is None:
        return missing(f"{caption}: {why_missing}")
    return Raw(
        f'<figure><img src="{uri}" alt="{html.escape(caption, quote=True)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def gallery(figures: Sequence[str]) -> Raw:
    """Figures side by side, wrapping."""
    return Raw('<div class="gallery">' + "".join(figures) + "</div>")


def code_block(text: str, *, highlighted: bool = False) -> Raw:
    """A ``<pre><code>`` block (``highlighted``: ``text`` is HTML from the highlighter)."""
    body = text if highlighted else html.escape(text)
    return Raw(f"<pre><code>{body}</code></pre>")


def section(anchor: str, title: str, parts: Sequence[str], level: int = 2) -> Raw:
    """A ``<section id=anchor>`` with its heading."""
    return Raw(
        f'<section id="{html.escape(anchor, quote=True)}"><h{level}>{esc(title)}</h{level}>'
        + "".join(parts)
        + "</section>"
    )


def paragraph(text: Any) -> Raw:
    return Raw(f"<p>{esc(text)}</p>")


def definitions(items: Sequence[tuple[str, Any]]) -> Raw:
    """A two-column key/value table."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in items)
    return Raw(f'<table class="facts"><tbody>{rows}</tbody></table>')
