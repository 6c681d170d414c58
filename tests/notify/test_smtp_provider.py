"""E-mail over a real SMTP server: STARTTLS or SSL with login, one connection reused."""

import ssl
import subprocess
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from services.notify.providers import PermanentError, TransientError, UnsendableMessage
from services.notify.providers.smtp_email import SmtpProvider
from shared.settings import Settings
from tests.processes import free_port, refused_port
from yizhan.smtp_sink import MailSink


class CountingSink(MailSink):
    """Also counts the SMTP sessions (connections) the mail came over."""

    def __init__(self):
        super().__init__()
        self.sessions = set()

    async def handle_DATA(self, server, session, envelope):
        self.sessions.add(id(session))
        return await super().handle_DATA(server, session, envelope)


def check_login(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"station" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return SimpleNamespace(cert=cert, context=context)


def start(certificate, mode):
    sink, port = CountingSink(), free_port()
    options = dict(authenticator=check_login, auth_required=True)
    if mode == "starttls":
        controller = Controller(sink, hostname="127.0.0.1", port=port, tls_context=certificate.context,
                                require_starttls=True, **options)
    else:
        # aiosmtpd does not notice implicit TLS when deciding to offer AUTH; the socket is TLS all the same.
        controller = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=certificate.context,
                                server_hostname="127.0.0.1", auth_require_tls=False, **options)
    controller.start()
    return controller, sink, port


def provider(port, mode, certificate, password="s3cret"):
    return SmtpProvider(Settings.from_env({
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": mode, "SMTP_USERNAME": "station",
        "SMTP_PASSWORD": password, "SMTP_CA_FILE": str(certificate.cert)}))


def message(n):
    return SimpleNamespace(id=n, recipient=f"r{n}@example.org", subject=f"第{n}封 mail {n}", body="你好",
                           html_body="<p>你好</p>")


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_mail_goes_over_tls_with_login_on_one_connection(certificate, mode):
    controller, sink, port = start(certificate, mode)
    try:
        smtp = provider(port, mode, certificate)
        for n in range(3):
            assert f"yizhan-{n}@" in smtp.send(message(n))
        assert len(sink.received) == 3 and len(sink.sessions) == 1  # one connection for all three
        sent = sink.received[0]
        assert sent.is_multipart() and sent.get_body(("html",)).get_content().strip() == "<p>你好</p>"
    finally:
        smtp._drop_connection()
        controller.stop()


def test_a_wrong_password_is_not_worth_retrying(certificate):
    controller, sink, port = start(certificate, "starttls")
    try:
        with pytest.raises(PermanentError):
            provider(port, "starttls", certificate, password="wrong").send(message(9))
    finally:
        controller.stop()


def test_an_smtp_server_that_is_down_is_a_transient_failure(certificate):
    with refused_port() as port, pytest.raises(TransientError):
        provider(port, "starttls", certificate).send(message(10))


def test_a_line_break_in_a_header_is_taken_out_and_a_message_that_cannot_be_built_is_unsendable(certificate):
    controller, sink, port = start(certificate, "starttls")
    smtp = provider(port, "starttls", certificate)
    try:
        crlf = SimpleNamespace(id=11, recipient="r11@example.org", subject="党课\r\nBcc: all@example.org",
                               body="你好", html_body=None)
        smtp.send(crlf)
        assert str(sink.received[-1]["Subject"]) == "党课 Bcc: all@example.org" and sink.received[-1]["Bcc"] is None
        with pytest.raises(UnsendableMessage):
            smtp.send(SimpleNamespace(id=12, recipient="r12@example.org", subject="s", body="\ud800", html_body=None))
        assert len(sink.received) == 1
    finally:
        smtp._drop_connection()
        controller.stop()


def test_the_station_address_is_parsed_once_and_a_bad_one_fails_each_message_as_unsendable():
    good = SmtpProvider(Settings.from_env({"MAIL_FROM": "社区驿站 Station <station@example.org>"}))
    first, second = good.build(message(21)), good.build(message(22))
    assert first["From"] is second["From"]  # one parsed header, shared: it is immutable
    assert (first["From"].addresses[0].display_name, first["From"].addresses[0].addr_spec) == (
        "社区驿站 Station", "station@example.org")
    bad = SmtpProvider(Settings.from_env({"MAIL_FROM": "Station <station@example.org>\r\nBcc: all@example.org"}))
    for n in (23, 24):  # refused each time, never remembered as if it were an address
        with pytest.raises(UnsendableMessage):
            bad.build(message(n))


def test_a_message_id_names_the_stations_mail_domain_without_a_name_lookup_per_message(monkeypatch):
    """make_msgid would ask socket.getfqdn() for each e-mail (a DNS lookup where the host's name does
    not resolve locally) and name the container; the station's own domain is in MAIL_FROM."""
    import socket

    good = SmtpProvider(Settings.from_env({"MAIL_FROM": "社区驿站 Station <station@Example.ORG>"}))
    monkeypatch.setattr(socket, "getfqdn", lambda *_: pytest.fail("a name lookup for a Message-ID"))
    ids = [good.build(message(n))["Message-ID"] for n in (31, 32)]
    assert all(i.startswith("<") and i.endswith("@Example.ORG>") and "yizhan-" in i for i in ids)
    assert ids[0] != ids[1]
    chinese = SmtpProvider(Settings.from_env({"MAIL_FROM": "社区驿站 <zhan@驿站.中国>"})).build(message(33))
    assert chinese["Message-ID"].endswith("@xn--5tz216d.xn--fiqs8s>")
    unfolded = chinese.as_bytes().replace(b"\n ", b" ")
    header, = [line for line in unfolded.splitlines() if line.lower().startswith(b"message-id:")]
    assert header.isascii() and header.endswith(b"@xn--5tz216d.xn--fiqs8s>")


def test_an_email_is_built_without_a_new_header_class_or_a_boundary_search_per_message(monkeypatch):
    """The stock header registry makes a new class for every header it parses, and the generator, left to
    draw a multipart boundary, compiles a regular expression to search the text for it (issue 14): each
    header's class is made once, and each e-mail has its own random boundary before it is written out."""
    import re
    from email.generator import Generator

    smtp = SmtpProvider(Settings.from_env({"MAIL_FROM": "社区驿站 Station <station@example.org>"}))
    first, second = smtp.build(message(41)), smtp.build(message(42))
    for name in ("To", "Subject", "Message-ID", "Content-Type"):
        assert type(first[name]) is type(second[name]), name
    boundaries = first.get_boundary(), second.get_boundary()
    assert all(b and re.fullmatch(r"=_yizhan_[0-9a-f]{32}", b) for b in boundaries) and boundaries[0] != boundaries[1]
    monkeypatch.setattr(Generator, "_make_boundary", classmethod(lambda *_: pytest.fail("a boundary drawn and searched for")))
    written = first.as_bytes()
    assert written.count(f"--{boundaries[0]}".encode()) == 3  # two parts, and the end
    assert smtp.build(SimpleNamespace(id=43, recipient="r43@example.org", subject="s", body="你好",
                                      html_body=None)).get_boundary() is None  # one part, no boundary
