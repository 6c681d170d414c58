"""What every view needs: the clock, the API clients for the current caller, the signed-in account."""

import functools
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for

from services.portal.clients import BookingClient, Caller, DeskClient, NotifyClient


def portal():
    return current_app.extensions["portal"]


def runtime():
    return current_app.extensions["yizhan"]


def now():
    return portal().clock()


def current_account():
    return getattr(session, "account", None)


def booking_client(caller: Caller | None = None) -> BookingClient:
    config = portal().config
    account = current_account()
    caller = caller or (Caller.of(account) if account else Caller.public())
    return BookingClient(config.api_urls["booking"], runtime().settings.secret_key, caller,
                         config.api_token_ttl_seconds, g.get("request_id", ""))


def desk_client() -> DeskClient:
    """The desk as the signed-in account: it decides which tickets they may see."""
    config = portal().config
    return DeskClient(config.api_urls["desk"], runtime().settings.secret_key, Caller.of(current_account()),
                      config.api_token_ttl_seconds, g.get("request_id", ""))


def notify_client_as_portal() -> NotifyClient:
    """Notify as the portal itself (`system`): only for the signed-in account's own phone."""
    config = portal().config
    return NotifyClient(config.api_urls["notify"], runtime().settings.secret_key, Caller.portal(),
                        config.api_token_ttl_seconds, g.get("request_id", ""))


def safe_next(target: str | None) -> str:
    """A path on this site to go on to, never another site's address (an open redirect).

    Only a path that starts with one "/" passes: "//evil.example" and "/\\evil.example" are
    read by browsers as another host, and anything with a scheme or host is refused.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("public.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return url_for("public.home")
    return target


def client_address() -> str:
    return request.remote_addr or "unknown"


def sign_in_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_account() is None:
            return redirect(url_for("account.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper
