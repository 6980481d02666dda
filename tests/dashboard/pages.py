"""Reading the dashboard's HTML in tests: table rows and figures by their test ids."""

from __future__ import annotations

import html
import re

_ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
_CELL = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
_TAG = re.compile(r"<[^>]+>")


def text(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def table(page: str, testid: str) -> list[list[str]]:
    """The body rows of the table with this data-testid, as cell texts."""
    match = re.search(rf'<table data-testid="{testid}">(.*?)</table>', page, re.S)
    assert match is not None, f"no table {testid!r} in the page"
    body = match.group(1).split("<tbody>", 1)[1]
    return [[text(c) for c in _CELL.findall(row)] for row in _ROW.findall(body)]


def figure(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">(.*?)</', page, re.S)
    assert match is not None, f"no figure {testid!r} in the page"
    return text(match.group(1))
