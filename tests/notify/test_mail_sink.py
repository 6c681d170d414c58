"""The local mail catcher (yizhan/smtp_sink.py): what `make run` and the benchmarks send e-mail to."""

import logging
import smtplib
from email.message import EmailMessage

import pytest

from yizhan.processes import free_port
from yizhan.smtp_sink import start_sink


def mail(n: int) -> EmailMessage:
    email = EmailMessage()
    email["From"] = "驿站 Yizhan <station@yizhan.local>"
    email["To"] = f"resident{n}@example.org"
    email["Subject"] = f"预约已通过 Booking approved {n}"
    email.set_content("您好 " * 40)
    email.add_alternative("<p>您好</p>", subtype="html")
    email.set_boundary(f"boundary-{n}")  # else each flattening draws its own, and no two copies compare equal
    return email


@pytest.mark.parametrize("keep", [True, False])
def test_the_sink_writes_each_mail_to_a_file_and_keeps_it_in_memory_only_when_asked(tmp_path, caplog, keep):
    """The sink `yizhan smtp-sink` serves (keep=False) runs as long as the station: it must not hold every
    e-mail in memory, and it reads only the headers it logs. Tests (keep=True) read the parsed messages."""
    caplog.set_level(logging.INFO, logger="yizhan.smtp_sink")
    controller, sink = start_sink(free_port(), tmp_path, keep=keep)
    try:
        sent = [mail(1), mail(2)]
        with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as smtp:
            for email in sent:
                smtp.send_message(email)
    finally:
        controller.stop()
    files = sorted(tmp_path.glob("*.eml"))
    assert [f.read_bytes().replace(b"\r\n", b"\n") for f in files] == \
           [e.as_bytes().replace(b"\r\n", b"\n") for e in sent]
    assert sink.count == 2
    if keep:
        assert [str(m["Subject"]) for m in sink.received] == ["预约已通过 Booking approved 1", "预约已通过 Booking approved 2"]
        assert sink.received[0].get_body(("html",)).get_content().strip() == "<p>您好</p>"
    else:
        assert sink.received == []
    logged = [r.getMessage() for r in caplog.records if r.name == "yizhan.smtp_sink"]
    assert logged == ["mail 1 for resident1@example.org: 预约已通过 Booking approved 1",
                      "mail 2 for resident2@example.org: 预约已通过 Booking approved 2"]
