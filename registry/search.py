"""The LKS list's query: filter terms, search, count and the page (for
``registry.services.list_lks`` and ``iter_lks``; ``f`` is its ``LksFilter``).
Tuned for 100,000 LKS on both databases (issue 13); the indexes they rely on
are in the migrations of 2026-11-22 and 2026-11-30."""

from __future__ import annotations

import asyncio
import operator
import unicodedata
from datetime import date
from functools import reduce
from typing import Any

from piccolo.columns.combination import WhereRaw

from registry.risk_cache import RISK_LEVEL, count_at, risk_filter
from registry.tables import Lks
from sigap.db import built_once, contains, fetch_where, is_sqlite


SORTS = {
    "name": (Lks.name, True),
    "-name": (Lks.name, False),
    "updated": (Lks.updated_at, False),
    "valid_until": (Lks.valid_until, True),
    "status": (Lks.registration_status, True),
    "kecamatan": (Lks.kecamatan_code, True),
}
# Searches on SQLite: up to this many matches are fetched and sorted; past
# it, the list walks the sort's covering index (SORTS with one: registry
# migrations of 2026-11-22 and, status and kecamatan, 2026-11-30 14:10).
SORT_FETCHED_UP_TO = 2000
COVERING_SORTS = frozenset({"name", "-name", "updated", "valid_until", "status", "kecamatan"})
LIST_COLUMNS = (
    Lks.id, Lks.name, Lks.kind, Lks.yayasan_name, Lks.address, Lks.kelurahan_code, Lks.kecamatan_code,
    Lks.registration_status, Lks.valid_until, Lks.accreditation_status, Lks.accreditation_grade, RISK_LEVEL,
    Lks.open_incident, Lks.documents_complete, Lks.capacity, Lks.residents_total, Lks.updated_at,
)


def _list_select() -> str:
    # Written once per process (Piccolo built it anew for every page: about
    # a millisecond of CPU); the filter, order, limit and offset are added.
    return built_once("registry.list_lks", lambda: Lks.select(*LIST_COLUMNS))


def _counted_select() -> str:
    """The list's SELECT with every match's count on each row (a window)."""
    select = _list_select()
    head, sep, tail = select.partition(' FROM "registry_lks"')
    if not sep:
        raise RuntimeError("the LKS list's SELECT has no FROM registry_lks")
    return head + ', COUNT(*) OVER () AS "matches"' + sep + tail


async def list_page(f, *, sort: str, page: int, per_page: int) -> dict:
    """One page of the LKS matching ``f`` in ``sort`` order, with the total."""
    column, ascending = SORTS.get(sort, SORTS["name"])

    def page_of(order: str, walk: bool = False, counted: bool = False):
        tail = f' ORDER BY {order} {"ASC" if ascending else "DESC"}, "registry_lks"."id" ASC LIMIT {{}} OFFSET {{}}'
        return fetch_where(_counted_select() if counted else _list_select(), where(f, walk=walk), tail,
                           per_page, (page - 1) * per_page)

    def answer(rows: list[dict], total: int) -> dict:
        return {"items": rows, "total": total, "page": page, "per_page": per_page, "pages": max(1, -(-total // per_page))}

    # A search's matches come from the search index: sort them, rather than
    # walk the sort column's index hoping to meet 25 of them early (matches
    # that sort late, "Panti Werdha ..." by name, made that a walk through
    # most of the index). ``|| ''`` keeps the order and hides the index.
    sorted_by = f'"registry_lks"."{column._meta.db_column_name}"'
    fetched_order = sorted_by + " || ''"
    if not f.q.strip():
        # The count and the page are independent: on PostgreSQL they run at
        # the same time on two pooled connections.
        total, rows = await asyncio.gather(count_lks(f), page_of(sorted_by))
        return answer(rows, total)
    if not is_sqlite():
        # PostgreSQL: the trigram index is lossy, so the count and the page
        # would each read and check every match's row (``q=kasih``: 8,700
        # rows of 5,400 pages, twice). One statement reads them once and
        # counts them in a window; past the last page no row carries the
        # count, and it is counted apart.
        rows = await page_of(fetched_order, counted=True)
        total = rows[0]["matches"] if rows else await count_lks(f)
        for row in rows:
            del row["matches"]
        return answer(rows, total)
    # SQLite (one connection: the count and the page run in turn anyway):
    # when the matches are many (a common word: 5-10 % of the register),
    # reading and sorting thousands of wide rows costs more than walking
    # the sort's covering index, where a page's matches come early.
    ids = None if fts_countable(f) else await ordered_matches(f, fetched_order, ascending, SORT_FETCHED_UP_TO)
    if ids is not None:  # every match, in order: the total and the page's ids at once
        total, ids = len(ids), ids[(page - 1) * per_page:page * per_page]
        found = {r["id"]: r for r in await fetch_where(_list_select(), Lks.id.is_in(ids))} if ids else {}
        return answer([found[i] for i in ids if i in found], total)
    total = await count_lks(f)
    walk = total > SORT_FETCHED_UP_TO and sort in COVERING_SORTS
    return answer(await page_of(sorted_by, walk=True) if walk else await page_of(fetched_order), total)


def normalize_text(value: str) -> str:
    """Lower-case, accents removed, spaces collapsed: for search."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


FTS_MIN_LENGTH = 3  # the trigram index finds substrings of 3 characters or more


def match_words(query, words: list[str], *, drive: bool = True):
    """Every word must occur in search_text. PostgreSQL: LIKE, served by the
    pg_trgm index. SQLite: the FTS5 trigram index (one MATCH for all words of
    3+ characters; shorter words, which it cannot index, by LIKE); with
    ``drive=False`` the matches are a membership test of rows met walking
    another index (a sort's), not the rows to fetch."""
    for term in word_terms(words, drive=drive):
        query = query.where(term)
    return query


def word_terms(words: list[str], *, drive: bool = True) -> list:
    """The conditions of :func:`match_words`."""
    if not is_sqlite():
        return [contains(Lks.search_text, word) for word in words]
    terms = []
    indexed = [w for w in words if len(w) >= FTS_MIN_LENGTH]
    if indexed:
        match = _fts_match(indexed)
        terms.append(
            WhereRaw(('' if drive else '+') + '"registry_lks"."id" IN (SELECT rowid FROM registry_lks_fts WHERE registry_lks_fts MATCH {})', match)
        )
    for word in words:
        if len(word) < FTS_MIN_LENGTH:
            terms.append(contains(Lks.search_text, word))
    return terms


def _fts_match(words: list[str]) -> str:
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in words)


async def count_lks(f) -> int:
    """The list's total. On SQLite a search alone (no other filter, every
    word indexable) is counted in the FTS index itself: no table row read.
    The risk level alone is counted in its own table (26,000 "high" LKS:
    25 ms on SQLite through the LKS table, 0.8 ms in the risk index)."""
    if f.risk_level and type(f)(risk_level=f.risk_level) == f:
        return await count_at(f.risk_level)
    if fts_countable(f):
        rows = await Lks.raw("SELECT COUNT(*) AS n FROM registry_lks_fts WHERE registry_lks_fts MATCH {}",
                             _fts_match(normalize_text(f.q).split()[:5]))
        return rows[0]["n"]
    rows = await fetch_where(COUNT_SQL, where(f, counting=True))
    return rows[0]["count"]


def fts_countable(f) -> bool:
    """SQLite counts this filter in the FTS index alone: a search, no other
    filter, every word indexable."""
    words = normalize_text(f.q).split()[:5]
    return is_sqlite() and bool(words) and all(len(w) >= FTS_MIN_LENGTH for w in words) and type(f)(q=f.q) == f


async def ordered_matches(f, order: str, ascending: bool, up_to: int) -> list[int] | None:
    """The ids of every LKS matching ``f`` in the list's order (``order``,
    an SQL expression; then id), or None when there are more than ``up_to``.
    SQLite, a search whose count the FTS index cannot give alone (a short
    word, another filter): the count and the page each read every match's
    wide row; this reads them once, and the page's rows are then fetched by
    id (``?q=harapan 12``: 775 of 8,000 "harapan" rows). Sorted as SQLite
    sorts ``order``'s text: by code point (UTF-8 byte order), NULL first
    ascending, last descending; id ascending among equals."""
    rows = await fetch_where(f'SELECT "registry_lks"."id" AS id, {order} AS k FROM "registry_lks"', where(f), " LIMIT {}", up_to + 1)
    if len(rows) > up_to:
        return None
    rows.sort(key=lambda r: r["id"])
    rows.sort(key=lambda r: (r["k"] is not None, r["k"] or ""), reverse=not ascending)  # stable: ids stay ascending
    return [r["id"] for r in rows]


# Written once: Piccolo builds a count anew each time (a few hundred µs).
COUNT_SQL = 'SELECT COUNT(*) AS "count" FROM "registry_lks"'


def filtered(query, f, *, counting: bool = False, walk: bool = False):
    """``query`` narrowed to the filter (:func:`conditions`)."""
    for term in conditions(f, counting=counting, walk=walk):
        query = query.where(term)
    return query


def where(f, *, counting: bool = False, walk: bool = False):
    """The filter as one condition (for ``sigap.db.fetch_where``), or None."""
    terms = conditions(f, counting=counting, walk=walk)
    return reduce(operator.and_, terms) if terms else None


def conditions(f, *, counting: bool = False, walk: bool = False) -> list:
    """The conditions of the filter ``f``, to AND together. SQLite (no
    statistics) takes any equality on an indexed column for ~10 rows: a page must walk the sort's
    covering index rather than fetch all "registered" LKS by a filter index
    and sort them, so its terms are ``+column = ?`` (no index serves those);
    a count (``counting``) uses the narrow registry_lks_count_* indexes.
    ``walk``: a search's page walks the sort's index (many matches, SQLite)."""
    out: list = []
    if f.q.strip():
        out += word_terms(normalize_text(f.q).split()[:5], drive=not walk)
    unindexed = is_sqlite() and not counting
    terms: list[tuple[Any, Any]] = [
        (Lks.kecamatan_code, f.kecamatan), (Lks.kelurahan_code, f.kelurahan), (Lks.kind, f.kind),
        (Lks.registration_status, f.registration_status), (Lks.accreditation_status, f.accreditation_status),
        (Lks.open_incident, f.open_incident),
        (Lks.documents_complete, None if f.documents_missing is None else not f.documents_missing),
        (Lks.accreditation_grade, f.accreditation_grade),
    ]
    if f.located is not None:
        out.append((Lks.latitude.is_not_null()) & (Lks.longitude.is_not_null()) if f.located
                   else (Lks.latitude.is_null()) | (Lks.longitude.is_null()))
    if f.risk_level:  # in its own narrow table (registry.risk_cache)
        out.append(risk_filter(f.risk_level, drive=not unindexed))
    for column, value in terms:
        if value in ("", None):
            continue
        if unindexed:
            out.append(WhereRaw(f'+"registry_lks"."{column._meta.db_column_name}" = {{}}', value))
        else:
            out.append(column == value)
    for column, month in ((Lks.registered_on, f.registered_month), (Lks.valid_until, f.valid_until_month)):
        if month:  # "YYYY-MM", checked by the filter
            start = date(int(month[:4]), int(month[5:]), 1)
            end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            out.append((column >= start) & (column < end))
    return out
