"""The WhatsApp hand-off's rules without a server: numbers as people write
them, the message (Indonesian, WIB, an absolute link, nothing about
incidents or residents) and its URL encoding."""

from __future__ import annotations

from datetime import date, datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from inspections.teams.whatsapp import alert_message, task_message, wa_link, wa_number

BASE = "https://sigap.tangerangkota.go.id"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0812-3456-7890", "6281234567890"),
        ("+62 812 3456 7890", "6281234567890"),
        ("62812-3456-7890", "6281234567890"),
        ("6281234567890", "6281234567890"),
        ("0062 812 3456 7890", "6281234567890"),
        ("+62 (0)812 3456 7890", "6281234567890"),  # the trunk zero written in brackets
        ("0812.3456.789", "628123456789"),
        ("812 3456 7890", "6281234567890"),  # the leading zero forgotten
        ("0811 888 999", "62811888999"),  # an old 10-digit number
        (" 0857 1234 5678 ", "6285712345678"),
        ("+60 12-345 6789", "60123456789"),  # a Malaysian mobile: wa.me takes any country
        ("(021) 555 1234", None),  # a Jakarta landline: not on WhatsApp
        ("021-5551234", None),
        ("+62 21 555 1234", None),
        ("", None),
        (None, None),
        ("0812", None),  # too short
        ("0812 3456 7890 1234", None),  # too long
        ("08l2 3456 7890", None),  # a letter l for a one
        ("0812+3456", None),
        ("+0812 3456 7890", None),
        ("٠٨١٢٣٤٥٦٧٨٩٠", None),  # non-ASCII digits
    ],
)
def test_numbers_are_normalised_to_international_digits(raw, expected):
    assert wa_number(raw) == expected


TASK = {
    "id": 42, "kind": "incident_response", "lks_name": "LKSA Kasih & Bunda #2", "due_on": date(2026, 12, 3),
    "due_at": datetime(2026, 12, 3, 7, 30, tzinfo=timezone.utc), "unannounced": True, "team": 1,
    "notes": "Anak R (9 th) dipukul pengasuh", "reason": "rahasia", "incident": 7,
}


def test_task_message_is_indonesian_with_wib_due_time_and_absolute_link():
    text = task_message(TASK, base_url=BASE, greeting="Pak RT Sukamaju")
    assert text.startswith("Halo Pak RT Sukamaju,")
    assert "LKS: LKSA Kasih & Bunda #2" in text
    assert "Jatuh tempo: 3 Desember 2026, 14.30 WIB" in text  # 07.30 UTC
    assert f"{BASE}/tasks/42" in text
    assert "jangan kabari LKS" in text  # unannounced
    routine = task_message({**TASK, "kind": "routine", "due_at": None, "unannounced": False}, base_url=BASE)
    assert "Jatuh tempo: 3 Desember 2026\n" in routine
    assert "Tugas: Pengawasan rutin" in routine
    assert "jangan kabari" not in routine


def test_an_incident_task_message_says_only_kind_lks_and_date():
    text = task_message(TASK, base_url=BASE)
    for secret in ("Anak", "dipukul", "rahasia", "Insiden #7", "/incidents/"):
        assert secret not in text
    lines = [line for line in text.splitlines() if line]
    assert [line.split(":")[0] for line in lines[2:]] == ["Tugas", "LKS", "Jatuh tempo", "Kunjungan tanpa pemberitahuan", "Rincian tugas"]


def test_alert_message_names_the_task_or_links_the_inbox():
    alert = {"id": 9, "kind": "incident_unvisited", "lks_name": "LKSA Melati", "raised_at": datetime(2026, 12, 1, tzinfo=timezone.utc),
             "title": "Kekerasan fisik terhadap anak"}
    with_task = alert_message(alert, {"id": 5, "kind": "incident_response", "due_on": date(2026, 12, 2), "due_at": None}, base_url=BASE)
    assert "Peringatan: Kasus belum dikunjungi" in with_task
    assert f"{BASE}/tasks/5" in with_task and "Kekerasan" not in with_task
    alone = alert_message({**alert, "kind": "registration_expiring"}, None, base_url=BASE)
    assert f"{BASE}/alerts#alert-9" in alone and "Sejak: 1 Desember 2026" in alone


def test_link_encodes_every_reserved_character():
    text = task_message(TASK, base_url=BASE)
    href = wa_link("6281234567890", text)
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/6281234567890")
    assert parse_qs(parts.query) == {"text": [text]}  # "&", "#", line breaks and spaces come back intact
    assert "&" not in parts.query and "#" not in href and " " not in href and "\n" not in href
