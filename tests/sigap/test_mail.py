"""sigap.mail on its own: SMTP URLs, messages, and errors without secrets.
The outbox (claims, retries, at most once) is exercised through the alert
digest in tests/inspections/test_notify.py."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from email import message_from_bytes, policy

import pytest

from sigap import mail
from tests.conftest import free_port

NOW = datetime(2027, 3, 10, 0, 0, tzinfo=timezone.utc)


def _message(**overrides):
    fields = {"sender": "SIGAP Dinsos <sigap@dinsos.example>", "to": "staf@dinsos.example", "subject": "SIGAP: uji",
              "body": "Isi pesan.\n", "key": "digest:7:2027-03-10", "now": NOW, "language": "en"}
    return mail.build_message(**{**fields, **overrides})


def test_message_headers():
    message = _message()
    assert message["From"] == "SIGAP Dinsos <sigap@dinsos.example>" and message["To"] == "staf@dinsos.example"
    assert message["Message-ID"] == "<sigap-digest-7-2027-03-10@dinsos.example>"
    assert message["Content-Language"] == "en" and message["Auto-Submitted"] == "auto-generated"
    assert message.get_content() == "Isi pesan.\n"


def test_error_text_hides_the_password():
    url = "smtp://sigap:pa%2455-rahasia@mail.example:587"
    text = mail.error_text(RuntimeError("login failed for pa$55-rahasia (pa%2455-rahasia)"), url)
    assert "rahasia" not in text and text.startswith("RuntimeError: ")
    assert len(mail.error_text(RuntimeError("x" * 2000), None)) == 500


def test_unsupported_scheme_is_permanent():
    with pytest.raises(mail.PermanentFailure):
        mail.smtp_send("http://mail.example", _message())


def test_smtp_send_delivers():
    from aiosmtpd.controller import Controller

    received = []
    lock = threading.Lock()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            with lock:
                received.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail.smtp_send(f"smtp://127.0.0.1:{port}", _message())
    finally:
        controller.stop()
    [(to, message)] = received
    assert to == ["staf@dinsos.example"] and message["Subject"] == "SIGAP: uji"
