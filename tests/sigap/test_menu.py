"""The main menu as each role gets it: staff and admins see a short row of
groups that open (``<details>``), the roles with few entries see all of
them in one row; the page you are on, and its group, are marked current."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from sigap.menu import FLAT_UP_TO
from tests.conftest import form


class _Menu(HTMLParser):
    """The entries of ``<nav class="mainnav">``: ``{"label", "href", "current"}``
    for a link, ``{"group", "lead", "toggle", "current", "links"}`` for a group:
    ``lead`` is the link shown beside its button (None without one), ``group``
    the name it shows (the lead's label, or the button's), ``toggle`` the
    button's accessible name, ``links`` the entries its list opens."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict] = []
        self._in_nav = False
        self._group: dict | None = None
        self._in_list = False  # inside the group's <details>
        self._text: dict | None = None  # the entry whose label is being read
        self._key = "label"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and "mainnav" in (attrs.get("class") or ""):
            self._in_nav = True
        elif not self._in_nav:
            return
        elif tag == "li" and "nav-group" in (attrs.get("class") or ""):
            self._group = {"group": "", "lead": None, "toggle": None, "current": None, "links": [], "name": None}
            self.entries.append(self._group)
        elif tag == "details":
            self._in_list = True
            self._group["name"] = attrs.get("name")
        elif tag == "summary":
            self._group["current"] = attrs.get("aria-current")
            self._group["toggle"] = attrs.get("aria-label")
            self._text, self._key = self._group, "group"
        elif tag == "a":
            link = {"label": "", "href": attrs["href"], "current": attrs.get("aria-current")}
            if self._group is None:
                self.entries.append(link)
            elif self._in_list:
                self._group["links"].append(link)
            else:
                self._group["lead"] = link
            self._text, self._key = link, "label"

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_nav = False
        elif tag in ("a", "summary"):
            self._text = None
        elif tag == "details" and self._group is not None:
            self._in_list = False
            if self._group["lead"]:
                self._group["group"] = self._group["lead"]["label"]
            self._group = None

    def handle_data(self, data):
        if self._text is not None:
            self._text[self._key] = (self._text[self._key] + data).strip()


def menu(client, path: str = "/") -> list[dict]:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    parser = _Menu()
    parser.feed(page.text)
    return parser.entries


def labels(entries: list[dict]) -> list[str]:
    return [e["group"] + " ▾" if "group" in e else e["label"] for e in entries]


def links(entries: list[dict]) -> list[dict]:
    """Every link of the menu, a group's lead first."""
    return [link for e in entries for link in (([e["lead"]] if e["lead"] else []) + e["links"] if "group" in e else [e])]


def test_staff_see_a_short_row_of_groups(client, as_role):
    as_role("staff")
    entries = menu(client)
    # A group's main job is its lead: a link of its own, one click away,
    # followed by a small button that opens the group's other entries.
    assert labels(entries) == [
        "Beranda", "LKS ▾", "Tugas ▾", "Peringatan", "Kasus ▾", "Akreditasi ▾", "Laporan bulanan",
    ]
    groups = {e["group"]: ((e["lead"]["label"], e["lead"]["href"]), [(link["label"], link["href"]) for link in e["links"]])
              for e in entries if "group" in e}
    assert groups == {
        "LKS": (("LKS", "/lks"), [("Peta", "/map"), ("Laporan LKS tidak terdaftar", "/sightings")]),
        "Tugas": (("Tugas", "/tasks"), [("Kunjungan", "/visits"), ("Temuan", "/findings"), ("Tim", "/teams")]),
        "Kasus": (("Kasus", "/incidents"), [("Laporan masyarakat", "/public-reports")]),
        "Akreditasi": (("Akreditasi", "/accreditation"), [("Rencana perbaikan", "/accreditation/improvement"),
                                                          ("Pembinaan", "/accreditation/training")]),
    }
    # The button says what it opens (it shows only an arrow).
    assert [e["toggle"] for e in entries if "group" in e] == [
        "Lainnya: LKS", "Lainnya: Tugas", "Lainnya: Kasus", "Lainnya: Akreditasi",
    ]
    assert form(client, "/lang", {"locale": "en", "next": "/"}).status_code in (302, 303)
    assert [e["toggle"] for e in menu(client) if "group" in e][:2] == ["More: LKS", "More: Tasks"]
    # One group open at a time, even without the script (the shared name).
    assert {e["name"] for e in entries if "group" in e} == {"mainnav-group"}
    assert "/static/nav." in client.get("/").text  # Escape and a click elsewhere close a group


def test_admins_get_their_pages_in_one_more_group(client, as_role):
    as_role("admin")
    entries = menu(client, "/admin/users")
    assert labels(entries)[-1] == "Administrasi ▾" and len(entries) == 8
    admin = entries[-1]
    assert admin["lead"] is None and admin["toggle"] is None  # no lead: the button shows the group's name
    assert [link["label"] for link in admin["links"]] == ["Pengguna", "Log audit", "Daftar periksa", "Pengaturan akreditasi"]
    assert admin["current"] == "true"
    assert [(link["label"], link["current"]) for link in links(entries) if link["current"]] == [("Pengguna", "page")]
    assert form(client, "/lang", {"locale": "en", "next": "/"}).status_code in (302, 303)
    assert labels(menu(client))[-1] == "System administration ▾"


@pytest.mark.parametrize("role, expected", [
    ("inspector", ["Beranda", "Tugas", "Peringatan"]),
    ("partner", ["Beranda", "Laporan LKS tidak terdaftar", "Tugas", "Peringatan"]),
    ("manager", ["Beranda", "LKS saya", "Peringatan", "Temuan", "Penilaian mandiri", "Rencana perbaikan"]),
])
def test_roles_with_few_entries_keep_them_all_in_one_row(client, as_role, role, expected):
    as_role(role)
    page = client.get("/")
    entries = menu(client)
    assert labels(entries) == expected and len(expected) <= FLAT_UP_TO
    assert "<details" not in page.text.split('class="mainnav"')[1].split("</nav>")[0]
    assert "/static/nav." not in page.text  # no script for a menu without groups
    assert [link["label"] for link in entries if link["current"]] == ["Beranda"]


def test_the_page_and_its_group_are_marked_current(client, as_role, make_lks):
    as_role("staff")
    lks = make_lks()

    def current(path):
        entries = menu(client, path)
        return ([e["group"] for e in entries if "group" in e and e["current"]],
                [(link["label"], link["current"]) for link in links(entries) if link["current"]])

    assert current("/findings") == (["Tugas"], [("Temuan", "page")])
    # The lead is an ordinary link: it is the page; its group says so too.
    assert current("/tasks") == (["Tugas"], [("Tugas", "page")])
    # Under an entry: "true", not "page". And the longest address wins: the
    # improvement plans are not also "Akreditasi" (/accreditation).
    assert current(f"/lks/{lks['id']}") == (["LKS"], [("LKS", "true")])
    assert current("/accreditation/improvement") == (["Akreditasi"], [("Rencana perbaikan", "page")])
    assert current("/accreditation") == (["Akreditasi"], [("Akreditasi", "page")])
    assert current("/reports/monthly") == ([], [("Laporan bulanan", "page")])
    assert current("/account") == ([], [])
