"""The stylesheets hold together. Several branches append their blocks to
static/sigap.css and git merges it as a union (.gitattributes): a lost
closing brace once swallowed every later rule into an ``@media print``
block, and the map of LKS had no height. The browser reports nothing
when that happens, so this test does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "static"
SHEETS = sorted(p for p in STATIC.glob("*.css"))


def _code(text: str) -> str:
    """The CSS without comments and quoted strings (they may hold braces)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', text)


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: p.name)
def test_every_block_closes_where_it_should(sheet):
    depth = 0
    for number, line in enumerate(_code(sheet.read_text(encoding="utf-8")).splitlines(), 1):
        if depth == 1 and re.match(r"^[.#a-zA-Z:\[*]", line) and not line.startswith(" "):
            # Inside an at-rule, rules are indented; a rule at column 0 there
            # means the at-rule above was never closed.
            raise AssertionError(f"{sheet.name}:{number}: {line[:40]!r} sits inside the unclosed block above it")
        for ch in line:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth >= 0, f"{sheet.name}:{number}: a '}}' closes nothing"
        assert depth <= 2, f"{sheet.name}:{number}: blocks nested three deep (an unclosed block above?)"
    assert depth == 0, f"{sheet.name}: {depth} block(s) never closed"
