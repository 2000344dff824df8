from tests.conftest import login


def test_login_page_and_home(client, make_user):
    make_user("rina", "staff", full_name="Rina Staf")
    r = client.get("/login")
    assert r.status_code == 200 and "Masuk ke SIGAP" in r.text
    login(client, "rina")
    r = client.get("/")
    assert "Selamat datang, Rina Staf" in r.text


def test_every_page_names_the_tab_icon_and_it_is_served(client):
    """Browsers show SIGAP's icon on the tab, for the staff pages and the
    public register alike (no 404 for an icon on every page)."""
    import re

    for path in ("/login", "/register"):
        page = client.get(path, follow_redirects=True)
        icon = re.search(r'<link rel="icon" href="([^"]+)"', page.text)
        assert icon, path
        served = client.get(icon.group(1))
        assert served.status_code == 200 and served.headers["content-type"].startswith("image/svg+xml")
