"""The kelurahan and kecamatan of the office's region, matched forgivingly
to what a spreadsheet says: case and spaces aside, ``Kel.``/``Kec.``
prefixes dropped, ``Karangtengah`` for Karang Tengah, small misspellings
(difflib's ratio); a match that is not exact is shown on the row."""

from __future__ import annotations

import difflib
import re

from registry import regions
from registry.services import normalize_text
from registry.transfer.rows import short
from sigap.i18n import _
from sigap.settings import get_settings

CODE_RE = re.compile(r"\d{2}(\.\d{2}){1,2}(\.\d{4})?")
CUTOFF = 0.85  # how alike two names must be (difflib ratio, spaces removed)
_PREFIX = re.compile(r"^(kelurahan|kel|desa|ds|kecamatan|kec)\b\.?\s*")


def _key(name: str) -> str:
    """``Kel. Karang  Tengah`` → ``karangtengah``."""
    plain = _PREFIX.sub("", normalize_text(name))
    return re.sub(r"[^0-9a-z]", "", plain)


class Places:
    """The kelurahan and kecamatan of the office's region, by code and name."""

    def __init__(self, villages: list[dict], districts: list[dict]) -> None:
        self.village_names = {v["code"]: v["name"] for v in villages}
        self.village_district = {v["code"]: v["parent_code"] for v in villages}
        self.district_names = {d["code"]: d["name"] for d in districts}
        self.by_name: dict[str, list[str]] = {}
        for v in villages:
            self.by_name.setdefault(_key(v["name"]), []).append(v["code"])
        self.district_by_name: dict[str, str] = {_key(d["name"]): d["code"] for d in districts}

    @classmethod
    async def load(cls) -> "Places":
        region = get_settings().region
        return cls(await regions.villages(region), await regions.districts(region))

    def district(self, text: str) -> tuple[str | None, bool]:
        """(code, exact) of a kecamatan name; (None, False) when none is alike."""
        key = _key(text)
        if not key:
            return None, False
        if key in self.district_by_name:
            return self.district_by_name[key], True
        close = difflib.get_close_matches(key, list(self.district_by_name), n=1, cutoff=CUTOFF)
        return (self.district_by_name[close[0]], False) if close else (None, False)

    def _villages(self, key: str) -> tuple[list[str], bool]:
        if key in self.by_name:
            return list(self.by_name[key]), True
        close = difflib.get_close_matches(key, list(self.by_name), n=3, cutoff=CUTOFF)
        if not close:
            return [], False
        best = difflib.SequenceMatcher(None, key, close[0]).ratio()
        # Two names equally close: no guess.
        codes = [c for name in close if difflib.SequenceMatcher(None, key, name).ratio() == best for c in self.by_name[name]]
        return codes, False

    def resolve(self, cells: dict[str, str]) -> tuple[str, str, str | None, str | None]:
        """(code, column it came from, error, note) of a row's kelurahan. The
        note says how a name that is not written exactly was read."""
        code_cell = cells.get("kode_kelurahan", "").strip()
        name_cell = " ".join(cells.get("kelurahan", "").split())
        if code_cell:
            warning = None
            if name_cell and not CODE_RE.fullmatch(name_cell) and code_cell in self.village_names:
                if _key(name_cell) != _key(self.village_names[code_cell]):
                    warning = _(
                        "The kelurahan “%(name)s” does not match code %(code)s (%(official)s); the code was used.",
                        name=short(name_cell),
                        code=short(code_cell),
                        official=self.village_names[code_cell],
                    )
            return code_cell, "kode_kelurahan", None, warning
        if not name_cell or CODE_RE.fullmatch(name_cell):
            return name_cell, "kelurahan" if name_cell else "kode_kelurahan", None, None
        codes, exact = self._villages(_key(name_cell))
        kecamatan_cell = cells.get("kecamatan", "").strip()
        district, _exact_district = self.district(kecamatan_cell) if kecamatan_cell else (None, False)
        if len(codes) > 1 and district:
            codes = [c for c in codes if self.village_district[c] == district] or codes
        if not codes:
            return "", "kelurahan", _("There is no kelurahan named “%(name)s” in this region.", name=short(name_cell)), None
        if len(codes) > 1:
            return "", "kelurahan", _(
                "Several kelurahan are named “%(name)s”: write the code instead (%(codes)s).", name=short(name_cell), codes=", ".join(codes)
            ), None
        code = codes[0]
        note = None
        official = self.village_names[code]
        district_name = self.district_names.get(self.village_district[code], "")
        if not exact or normalize_text(name_cell) != normalize_text(official):
            note = _(
                "Kelurahan “%(name)s” was read as %(official)s, Kecamatan %(district)s (%(code)s).",
                name=name_cell,
                official=official,
                district=district_name,
                code=code,
            )
        if kecamatan_cell and district and district != self.village_district[code]:
            note = _(
                "Kecamatan “%(written)s” does not match: kelurahan %(official)s lies in Kecamatan %(district)s (%(code)s).",
                written=short(kecamatan_cell),
                official=official,
                district=district_name,
                code=code,
            )
        return code, "kelurahan", None, note
