from tests.conftest import login


def test_login_page_and_home(client, make_user):
    make_user("rina", "staff", full_name="Rina Staf")
    r = client.get("/login")
    assert r.status_code == 200 and "Masuk ke SIGAP" in r.text
    login(client, "rina")
    r = client.get("/")
    assert "Selamat datang, Rina Staf" in r.text
