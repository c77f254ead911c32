"""Syntax highlighting of Python source (the run-config) as HTML, with Python's own ``tokenize`` and no library.

Each keyword, string, number, comment and function/class name becomes a ``<span class="...">`` (the page's CSS
colours them); everything else, whitespace included, is copied through escaped, so the text reads exactly as the
file. Source that does not tokenize (it cannot happen for a run-config that loaded, but a report never fails on
it) is shown escaped without colours.
"""

from __future__ import annotations

import builtins
import html
import io
import keyword
import token
import tokenize

#: CSS class of each kind of token that is coloured.
CLASSES = {
    "keyword": "kw",
    "builtin": "bi",
    "string": "st",
    "number": "nu",
    "comment": "co",
    "definition": "de",
}

_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
_STRING_TYPES = {token.STRING} | {
    getattr(token, name) for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END") if hasattr(token, name)
}


def _kind(tok: tokenize.TokenInfo, previous: str) -> str | None:
    if tok.type == token.NAME:
        if keyword.iskeyword(tok.string) or keyword.issoftkeyword(tok.string):
            return "keyword"
        if previous in ("def", "class"):
            return "definition"
        if tok.string in _BUILTINS:
            return "builtin"
        return None
    if tok.type in _STRING_TYPES:
        return "string"
    if tok.type == token.NUMBER:
        return "number"
    if tok.type == token.COMMENT:
        return "comment"
    return None


def _offsets(source: str) -> list[int]:
    """The offset in ``source`` where each line (1-based) starts."""
    starts = [0, 0]
    for line in io.StringIO(source).readlines():  # the lines tokenize reads (split at "\n" only)
        starts.append(starts[-1] + len(line))
    return starts


def highlight_python(source: str) -> str:
    """``source`` as escaped HTML with ``<span class=...>`` around its coloured tokens (no surrounding element)."""
    starts = _offsets(source)
    parts: list[str] = []
    position = 0
    previous = ""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return html.escape(source)
    for tok in tokens:
        if tok.type == token.ENDMARKER:
            break
        begin = starts[tok.start[0]] + tok.start[1]
        end = starts[tok.end[0]] + tok.end[1]
        if begin < position:  # DEDENT/INDENT tokens carry no new text
            continue
        parts.append(html.escape(source[position:begin]))
        text = source[begin:end]
        kind = _kind(tok, previous)
        if kind is None:
            parts.append(html.escape(text))
        else:
            parts.append(f'<span class="{CLASSES[kind]}">{html.escape(text)}</span>')
        position = end
        if tok.type == token.NAME:
            previous = tok.string
        elif tok.type not in (token.NL, token.NEWLINE, token.COMMENT):
            previous = ""
    parts.append(html.escape(source[position:]))
    return "".join(parts)
