"""The admin binds a manager to an LKS by its name (suggestions from a JSON
search, the matches listed without script), and the audit log speaks in
words: people's names, LKS names, translated actions, in a fixed number of
queries whatever the events on the page."""

from __future__ import annotations

import uuid

from sigap.tables import User
from tests.conftest import csrf_token, form, login


async def _run(query):
    return await query


def _user(call, username):
    return call(_run, User.select().where(User.username == username).first())


def test_the_search_suggests_lks_by_name_to_admins_only(client, make_user, make_lks):
    nurul = make_lks("Panti Asuhan Nurul Iman")
    make_lks("Panti Werdha Kasih")
    make_user("adm", "admin")
    login(client, "adm")
    items = client.get("/admin/lks-search?q=nurul").json()["items"]
    assert [(i["id"], i["name"]) for i in items] == [(nurul["id"], "Panti Asuhan Nurul Iman")]
    assert items[0]["kelurahan_name"] == "Kunciran Indah"
    assert client.get("/admin/lks-search?q=").json()["items"] == []
    make_user("staf", "staff")
    client.cookies.clear()
    login(client, "staf")
    assert client.get("/admin/lks-search?q=nurul").status_code == 403


def test_a_manager_is_bound_by_typing_the_name_without_script(client, make_user, make_lks, call):
    nurul = make_lks("Panti Asuhan Nurul Iman")
    kasih_a = make_lks("Panti Kasih Ibu")
    kasih_b = make_lks("Panti Kasih Bapa")
    make_user("adm", "admin")
    login(client, "adm")
    page = client.get("/admin/users/new")
    assert 'name="lks_q"' in page.text and "lks-search.js" in page.text and "LKS number" not in page.text

    base = {"role": "manager", "password": "Sangat-Kuat-2026", "lks_id": ""}
    # One match: bound.
    done = form(client, "/admin/users", {**base, "username": "pengurus1", "lks_q": "nurul"})
    assert done.status_code == 303
    assert _user(call, "pengurus1")["lks_id"] == nurul["id"]
    # Several: listed to choose one, nothing saved.
    several = form(client, "/admin/users", {**base, "username": "pengurus2", "lks_q": "kasih"})
    assert several.status_code == 422 and "Beberapa LKS cocok" in several.text
    assert f'type="radio" name="lks_id" value="{kasih_a["id"]}"' in several.text
    assert f'type="radio" name="lks_id" value="{kasih_b["id"]}"' in several.text
    assert _user(call, "pengurus2") is None
    chosen = form(client, "/admin/users", {**base, "username": "pengurus2", "lks_q": "kasih", "lks_id": str(kasih_b["id"])})
    assert chosen.status_code == 303 and _user(call, "pengurus2")["lks_id"] == kasih_b["id"]
    # None: said next to the field.
    none = form(client, "/admin/users", {**base, "username": "pengurus3", "lks_q": "tidak ada"})
    assert none.status_code == 422 and "Tidak ada LKS dengan nama ini" in none.text and 'id="e-lks_id"' in none.text

    # The user page shows the LKS by name, and the list too.
    user_id = _user(call, "pengurus1")["id"]
    page = client.get(f"/admin/users/{user_id}")
    assert 'value="Panti Asuhan Nurul Iman"' in page.text and f'name="lks_id" type="hidden" value="{nurul["id"]}"' in page.text
    assert "Panti Asuhan Nurul Iman" in client.get("/admin/users?role=manager").text
    # Rebinding by name on the user page.
    user = _user(call, "pengurus1")
    moved = form(client, f"/admin/users/{user_id}", {"role": "manager", "lks_q": "Panti Kasih Ibu", "lks_id": "",
                                                      "version": str(user["version"]), "full_name": "", "email": ""})
    assert moved.status_code == 303 and _user(call, "pengurus1")["lks_id"] == kasih_a["id"]


def test_the_audit_log_names_people_lks_and_actions(client, make_user, make_lks, call):
    make_user("adm", "admin", full_name="Admin Dinsos")
    login(client, "adm")
    lks = make_lks("Panti Asuhan Harapan Bangsa")
    form(client, f"/lks/{lks['id']}/edit", {"version": "1", "name": "Panti Asuhan Harapan Bangsa", "kind": "lksa",
                                             "kelurahan_code": "36.71.11.1005", "phone": "0812 3456 7890"})
    form(client, "/admin/users", {"username": "rina", "full_name": "Rina Wulandari", "role": "staff",
                                  "password": "Sangat-Kuat-2026"})
    events = client.get("/admin/audit").text.split("<tbody>")[1]
    assert "Admin Dinsos (adm)" in events
    assert "Mengubah data LKS" in events and f'<a href="/lks/{lks["id"]}">Panti Asuhan Harapan Bangsa</a>' in events
    assert "Membuat akun pengguna" in events and "Rina Wulandari (rina)" in events
    assert "lks.update" not in events and "user.create" not in events
    # The filters offer actions and entity types in words.
    page = client.get("/admin/audit?action=lks.update")
    assert '<option value="lks.update" selected>Mengubah data LKS</option>' in page.text
    assert "Membuat akun pengguna" not in page.text.split("<tbody>")[1]


def test_the_audit_page_runs_a_fixed_number_of_queries(client, make_user, make_lks, call, count_queries):
    make_user("adm", "admin")
    login(client, "adm")

    def activity(n: int) -> None:
        for _ in range(n):
            lks = make_lks(f"Panti {uuid.uuid4().hex[:6]}")
            form(client, f"/lks/{lks['id']}/edit", {"version": "1", "name": lks["name"], "kind": "lksa",
                                                     "kelurahan_code": "36.71.11.1005", "capacity": "40"})
            make_user(f"u{uuid.uuid4().hex[:6]}", "staff")
            client.post("/api/v1/sightings", data={"lks_id": str(lks["id"]), "seen": "Ada anak-anak di sana.",
                                                   "client_id": uuid.uuid4().hex},
                        headers={"X-CSRFToken": csrf_token(client)})

    activity(1)
    assert client.get("/admin/audit").status_code == 200
    count_queries.reset()
    client.get("/admin/audit")
    few = len(count_queries)
    activity(8)
    count_queries.reset()
    page = client.get("/admin/audit")
    many = len(count_queries)
    assert page.status_code == 200 and "Melaporkan LKS tidak terdaftar" in page.text
    assert many == few, "\n".join(count_queries.statements)
    # events + users + one per entity type shown (lks, sighting) + the session's own
    print("audit page statements:", many)
    assert many <= 8, "\n".join(count_queries.statements)
