"""A generic SMS gateway spoken to in signed JSON over HTTP.

Sending: POST SMS_HTTP_URL with {"to", "text", "template", "params", "message_id"}, signed in
`X-Yizhan-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with SMS_HTTP_SECRET>` and
stamped in `X-Yizhan-Timestamp` (Unix seconds); a 2xx answer carries {"reference": "..."}.
`message_id` is ours and stable across retries, so the gateway can drop a repeated request.

Receipts: the gateway POSTs our generic callback format (receipts.parse_generic), signed the same way.
"""

import hashlib
import hmac
import json
import time

import requests

from services.notify.providers.base import PermanentError, Provider, TransientError
from services.notify.providers.receipts import header, parse_generic, read_json
from shared.settings import ConfigurationError

SIGNATURE_HEADER = "X-Yizhan-Signature"
TIMESTAMP_HEADER = "X-Yizhan-Timestamp"
TIMEOUT = (5, 15)  # seconds to connect, seconds to read the answer
# Statuses that say "not now" rather than "never": timeout, too early, throttled (RFC 9110, RFC 6585).
_RETRYABLE_STATUSES = {408, 425, 429}


def sign_body(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, signature: str | None) -> None:
    if not signature or not hmac.compare_digest(signature.encode(), sign_body(secret, body).encode()):
        raise ValueError(f"the {SIGNATURE_HEADER} header is missing or does not match the body")


class HttpSmsProvider(Provider):
    name = "http"

    def __init__(self, settings):
        self.url = settings.environ.get("SMS_HTTP_URL", "")
        self.secret = settings.environ.get("SMS_HTTP_SECRET", "")
        missing = [name for name, value in (("SMS_HTTP_URL", self.url), ("SMS_HTTP_SECRET", self.secret)) if not value]
        if missing:
            raise ConfigurationError(f"the 'http' SMS provider needs {', '.join(missing)}")

    def send(self, message) -> str | None:
        body = json.dumps({"to": message.recipient, "text": message.body, "template": message.template,
                           "params": message.params or {}, "message_id": message.id},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8",
                   SIGNATURE_HEADER: sign_body(self.secret, body), TIMESTAMP_HEADER: str(int(time.time()))}
        try:
            response = requests.post(self.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"SMS gateway unreachable ({type(exc).__name__})") from exc
        except requests.RequestException as exc:  # an unusable SMS_HTTP_URL, say
            raise PermanentError(f"cannot call the SMS gateway ({type(exc).__name__}: {exc})") from exc
        return _reference_from(response)

    def parse_receipts(self, body: bytes, headers, query):
        verify_signature(self.secret, body, header(headers, SIGNATURE_HEADER))
        return parse_generic(read_json(body))


def _reference_from(response: requests.Response) -> str | None:
    status = response.status_code
    if 200 <= status < 300:
        try:
            reference = response.json().get("reference")
        except (ValueError, AttributeError):
            reference = None
        # Accepted all the same: raising here would have the message sent twice.
        return str(reference) if reference else None
    error = f"SMS gateway answered HTTP {status}: {response.text[:200]!r}"
    if status >= 500 or status in _RETRYABLE_STATUSES:
        raise TransientError(error)
    raise PermanentError(error)
