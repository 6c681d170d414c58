"""E-mail over SMTP (plain, STARTTLS or SSL, with login), one connection per worker process."""

import functools
import smtplib
import socket
import ssl
import uuid
from email import errors as email_errors
from email import policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import make_msgid

from services.notify.domain.templates import one_line
from services.notify.providers.base import PermanentError, Provider, TransientError, UnsendableMessage

_connections: dict = {}


class HeaderClasses(HeaderRegistry):
    """The email package's header registry, making each header's class once. The stock registry makes a
    new class with type() for every header it parses, about two dozen per e-mail built and sent: a
    fifth of the e-mail's CPU (issue 14). A header's class holds no state of its own, so one per name serves
    every message. A policy's `header_factory` is the documented place for a registry of one's own."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._classes = {}

    def __getitem__(self, name):
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls

    def map_to_type(self, name, cls):
        super().map_to_type(name, cls)
        self._classes.pop(name.lower(), None)


# The modern API's policy (email.policy.default: headers parsed, checked and folded as RFC 5322 asks),
# with the registry above.
MAIL_POLICY = policy.default.clone(header_factory=HeaderClasses())


@functools.lru_cache(maxsize=8)
def _from_header(mail_from: str):
    """The From header, parsed once per process (the station's own address, the same on every e-mail;
    parsing an address header is a good part of building an e-mail). A parsed header is immutable and
    is stored as it is by the message it is given to; an address that cannot be one raises each time."""
    email = EmailMessage(policy=MAIL_POLICY)
    email["From"] = mail_from
    return email["From"]


@functools.lru_cache(maxsize=8)
def _message_id_domain(mail_from: str) -> str:
    """The right-hand side of every Message-ID: the station's own mail domain, from MAIL_FROM. Left to
    itself, make_msgid asks socket.getfqdn() for each e-mail: a name lookup per message, which on a
    host whose name does not resolve fast waits on DNS, and which names the container, not the station.
    A domain in Chinese goes in as its ASCII (IDNA) form, as a Message-ID must be ASCII."""
    addresses = _from_header(mail_from).addresses
    try:
        domain = (addresses[0].domain if addresses else "").encode("idna").decode("ascii")
    except UnicodeError:  # not a domain IDNA can write (an empty label): as make_msgid would do
        domain = ""
    return domain or socket.getfqdn()


class SmtpProvider(Provider):
    name = "smtp"

    def __init__(self, settings):
        self.settings = settings

    def _tls(self) -> ssl.SSLContext:
        # SMTP_CA_FILE: trust a private CA (a station's own mail relay) besides the system's.
        return ssl.create_default_context(cafile=self.settings.environ.get("SMTP_CA_FILE") or None)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=15, context=self._tls())
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=15)
            if s.smtp_security == "starttls":
                smtp.starttls(context=self._tls())
        if s.smtp_username:
            smtp.login(s.smtp_username, s.smtp_password)
        return smtp

    def _connection(self) -> smtplib.SMTP:
        key = (self.settings.smtp_host, self.settings.smtp_port)
        smtp = _connections.get(key)
        if smtp is None:
            smtp = _connections[key] = self._connect()
        return smtp

    def _drop_connection(self) -> None:
        smtp = _connections.pop((self.settings.smtp_host, self.settings.smtp_port), None)
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass

    def build(self, message) -> EmailMessage:
        """The e-mail; UnsendableMessage when this message cannot be one (nothing to do with the server)."""
        try:
            email = EmailMessage(policy=MAIL_POLICY)
            email["From"] = _from_header(self.settings.mail_from)
            email["To"] = one_line(message.recipient)
            email["Subject"] = one_line(message.subject or "")
            email["Message-ID"] = make_msgid(idstring=f"yizhan-{message.id}",
                                             domain=_message_id_domain(self.settings.mail_from))
            email.set_content(message.body)
            if message.html_body:
                email.add_alternative(message.html_body, subtype="html")
                # A boundary of 122 random bits, drawn once the text is written, cannot be in it. Left
                # unset, the generator draws one and compiles a regular expression from it to search the
                # whole text: a third of the time of writing the e-mail out (issue 14).
                email.set_boundary(f"=_yizhan_{uuid.uuid4().hex}")
        # The email package raises ValueError for a header it will not write (a line break),
        # UnicodeError for text it cannot encode, KeyError (no content handler) for a missing text.
        except (ValueError, TypeError, LookupError, AttributeError, email_errors.MessageError) as exc:
            raise UnsendableMessage(f"cannot build the e-mail: {type(exc).__name__}: {exc}"[:300]) from exc
        return email

    def send(self, message) -> str:
        email = self.build(message)
        reference = email["Message-ID"]
        for attempt in (1, 2):  # a reused connection may have been closed by the server
            try:
                self._connection().send_message(email)
                return reference
            except (UnicodeError, smtplib.SMTPNotSupportedError) as exc:
                # A non-ASCII address to a server without SMTPUTF8: this message, not the server.
                raise UnsendableMessage(f"cannot be sent over this server: {exc}"[:300]) from exc
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                error = f"recipient refused: {codes}"
                # 4xx is "try again later" (RFC 5321 §4.2.1), 5xx is final.
                raise (TransientError if all(400 <= c < 500 for c in codes) else PermanentError)(error) from exc
            except smtplib.SMTPResponseException as exc:
                self._drop_connection()
                error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
                if isinstance(exc, smtplib.SMTPConnectError) or 400 <= exc.smtp_code < 500:
                    raise TransientError(error) from exc
                raise PermanentError(error) from exc
            except OSError as exc:  # includes SMTPServerDisconnected: reconnect once
                self._drop_connection()
                if attempt == 2:
                    raise TransientError(f"SMTP unavailable: {exc}") from exc
        raise TransientError("SMTP unavailable")
