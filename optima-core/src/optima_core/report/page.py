"""The page around the report's sections: the document head with its inline stylesheet, and the contents list.

No scripts, fonts or anything else from the network: the page is one file that any browser shows offline.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

_SECTION = re.compile(r'<section id="([^"]+)"><h2>(.*?)</h2>')

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0 1.5em 3em; color: #1d2330; line-height: 1.45; }
header { border-bottom: 3px solid #2c5d8f; margin-bottom: 1em; }
h1 { margin-bottom: .1em; } h2 { border-bottom: 1px solid #c9d3e0; margin-top: 2em; }
h3 { margin-top: 1.5em; } h4 { margin: 1em 0 .3em; }
.subtitle { color: #5b6474; margin-top: 0; }
nav ul { columns: 3; list-style: none; padding: 0; } nav a { text-decoration: none; color: #2c5d8f; }
table { border-collapse: collapse; margin: .5em 0; font-size: .9em; }
th, td { border: 1px solid #d5dbe5; padding: .25em .6em; text-align: left; vertical-align: top; }
thead th { background: #eef2f8; } table.facts th { background: #f6f8fb; font-weight: 600; }
table.trials td:last-child { font-family: ui-monospace, monospace; font-size: .85em; }
td.best { font-weight: 700; background: #e5f4e5; }
.missing { color: #7a6a3a; background: #fbf7e9; border-left: 3px solid #d9c27a; padding: .2em .6em; }
.note { background: #eef4fb; border-left: 3px solid #2c5d8f; padding: .2em .6em; }
pre { background: #f6f8fb; border: 1px solid #d5dbe5; padding: .8em; overflow-x: auto; font-size: .85em; }
.gallery { display: flex; flex-wrap: wrap; gap: 1em; }
.columns { display: flex; flex-wrap: wrap; gap: 3em; align-items: flex-start; }
figure { margin: 0; max-width: 380px; } figure img { max-width: 100%; border: 1px solid #e1e5ec; }
figcaption { font-size: .85em; color: #5b6474; text-align: center; }
.kw { color: #8b2fa8; font-weight: 600; } .st { color: #2a7a2a; } .nu { color: #b35a00; }
.co { color: #7b8494; font-style: italic; } .bi { color: #2c5d8f; } .de { color: #0b5394; font-weight: 600; }
"""


def contents(parts: Sequence[str]) -> str:
    """A list of links to every top-level section among ``parts``."""
    links = []
    for part in parts:
        match = _SECTION.match(part)
        if match:
            links.append(f'<li><a href="#{match.group(1)}">{match.group(2)}</a></li>')
    return "<nav><ul>" + "".join(links) + "</ul></nav>"


def page(title: str, subtitle: str, parts: Sequence[str]) -> str:
    """The whole HTML document."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<header><h1>{html.escape(title)}</h1><p class="subtitle">{html.escape(subtitle)}</p></header>'
        + contents(parts)
        + "".join(parts)
        + "</body></html>\n"
    )
