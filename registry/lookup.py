"""Finding an LKS by its name, for pickers (the sighting form, the admin's
manager binding) and naming LKS in lists (the audit log): small, set-based
queries that show no more than the name, address and status."""

from __future__ import annotations

from difflib import SequenceMatcher

from registry.regions import region_names
from registry.search import match_words, normalize_text
from registry.tables import Lks

MAX_RESULTS = 20
MAX_QUERY = 100


async def search_names(q: str, *, limit: int = 10, kelurahan_code: str = "") -> list[dict]:
    """LKS whose name, foundation or address holds every word of ``q``:
    id, name, address, registration status and kelurahan name, by name."""
    words = normalize_text((q or "")[:MAX_QUERY]).split()[:5]
    if not words:
        return []
    query = Lks.select(Lks.id, Lks.name, Lks.address, Lks.kelurahan_code, Lks.registration_status)
    if kelurahan_code:
        query = query.where(Lks.kelurahan_code == kelurahan_code)
    rows = await match_words(query, words).order_by(Lks.name).limit(max(1, min(limit, MAX_RESULTS)))
    names = await region_names({r["kelurahan_code"] for r in rows})
    for row in rows:
        row["kelurahan_name"] = names.get(row["kelurahan_code"], "")
    return rows


async def names_of(ids: set[int]) -> dict[int, str]:
    """LKS id → name, in one query (ids that do not exist are left out)."""
    clean = {i for i in ids if isinstance(i, int) and 0 < i < 2**63}
    if not clean:
        return {}
    return {r["id"]: r["name"] for r in await Lks.select(Lks.id, Lks.name).where(Lks.id.is_in(sorted(clean)))}


SIMILAR = 0.75  # how alike two normalised names must be to be shown as a possible duplicate
NOISE = {"panti", "asuhan", "yayasan", "yay", "lks", "lksa", "rumah", "the"}


def _core(name: str) -> str:
    return " ".join(w for w in normalize_text(name).replace(".", " ").split() if w not in NOISE)


def similar(a: str, b: str) -> bool:
    """Same or similar LKS names: one contains the other once the usual
    words (panti asuhan, yayasan, ...) are left out, or they are close."""
    ca, cb = _core(a), _core(b)
    if not ca or not cb:
        return normalize_text(a) == normalize_text(b)
    if ca in cb or cb in ca:
        return True
    return SequenceMatcher(None, ca, cb).ratio() >= SIMILAR


async def possible_duplicates(name: str, kelurahan_code: str, *, limit: int = 5) -> list[dict]:
    """Known LKS in the same kelurahan with the same or a similar name."""
    if not name.strip() or not kelurahan_code:
        return []
    rows = await Lks.select(Lks.id, Lks.name, Lks.address, Lks.registration_status).where(
        (Lks.kelurahan_code == kelurahan_code) & (Lks.registration_status != "closed")
    ).order_by(Lks.name)
    return [r for r in rows if similar(name, r["name"])][:limit]


async def by_id(lks_id: int) -> dict | None:
    """The same short description of one LKS, or None."""
    row = await Lks.select(Lks.id, Lks.name, Lks.address, Lks.kelurahan_code, Lks.registration_status).where(
        Lks.id == lks_id
    ).first()
    if row is not None:
        row["kelurahan_name"] = (await region_names({row["kelurahan_code"]})).get(row["kelurahan_code"], "")
    return row
