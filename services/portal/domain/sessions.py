"""Server-side sessions: the cookie holds a random id, the database its SHA-256 and the data.

Flask's own session is a signed cookie that cannot be ended from the server; this
one can (sign-out, sign-out everywhere, a disabled account), is rotated at sign-in
(a new id, so one planted before sign-in is worthless after: OWASP Session
Management Cheat Sheet, "Renew the Session ID After Any Privilege Level Change")
and ends after an idle time that depends on the account's role.
A Flask SessionInterface (flask/sessions.py), so Flask-WTF keeps its CSRF token in it.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete
from werkzeug.datastructures import CallbackDict

from services.portal.models import Account, WebSession
from shared.db import utcnow

COOKIE_NAME = "yizhan_session"
# last_seen_at is written at most this often, not on every page.
TOUCH_EVERY = timedelta(minutes=1)
# An anonymous session (a CSRF token, a phone waiting for its code) lasts a day at most.
ANONYMOUS_IDLE = timedelta(days=1)


def id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class PortalSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, session_id=None, account=None, last_seen_at=None):
        def on_update(_self):
            _self.modified = True

        super().__init__(initial, on_update)
        self.session_id = session_id
        self.account = account
        self.last_seen_at = last_seen_at
        self.modified = False
        self.rotate_to = None  # an account id: give this browser a new session id, signed in as it
        self.ended = False

    def sign_in(self, account_id: int) -> None:
        """Rotate: the old id dies, a new one carries the data on, signed in."""
        self.rotate_to = account_id
        self.modified = True

    def end(self) -> None:
        self.clear()
        self.ended = True


class ServerSideSessions(SessionInterface):
    def __init__(self, database, config, clock=utcnow):
        self.database, self.config, self.clock = database, config, clock

    def idle_timeout(self, account) -> timedelta:
        return self.config.idle_timeout.get(account.role, ANONYMOUS_IDLE) if account else ANONYMOUS_IDLE

    def open_session(self, app, request):
        session_id = request.cookies.get(COOKIE_NAME)
        if not session_id or len(session_id) > 100:
            return PortalSession()
        now = self.clock()
        with self.database.reader() as db:
            row = db.get(WebSession, id_hash(session_id))
            account = db.get(Account, row.account_id) if row is not None and row.account_id else None
        if row is None:
            return PortalSession()
        if (account is not None and account.disabled) or now - row.last_seen_at > self.idle_timeout(account):
            with self.database.transaction() as db:
                db.execute(delete(WebSession).where(WebSession.id_hash == row.id_hash))
            return PortalSession()
        return PortalSession(dict(row.data or {}), session_id, account, row.last_seen_at)

    def save_session(self, app, session: PortalSession, response):
        now = self.clock()
        cookie = dict(domain=self.get_cookie_domain(app), path=self.get_cookie_path(app), httponly=True,
                      secure=self.config.cookie_secure, samesite="Lax")
        if session.ended:
            if session.session_id:
                with self.database.transaction() as db:
                    db.execute(delete(WebSession).where(WebSession.id_hash == id_hash(session.session_id)))
            response.delete_cookie(COOKIE_NAME, **cookie)
            return
        if session.rotate_to is not None:
            with self.database.transaction() as db:
                if session.session_id:
                    db.execute(delete(WebSession).where(WebSession.id_hash == id_hash(session.session_id)))
                session.session_id = secrets.token_urlsafe(32)
                db.add(WebSession(id_hash=id_hash(session.session_id), account_id=session.rotate_to,
                                  data=dict(session), created_at=now, last_seen_at=now))
        elif session.modified and (session or session.session_id):
            with self.database.transaction() as db:
                row = db.get(WebSession, id_hash(session.session_id)) if session.session_id else None
                if row is None:
                    session.session_id = secrets.token_urlsafe(32)
                    db.add(WebSession(id_hash=id_hash(session.session_id), account_id=None, data=dict(session),
                                      created_at=now, last_seen_at=now))
                else:
                    row.data, row.last_seen_at = dict(session), now
        elif session.session_id and now - session.last_seen_at > TOUCH_EVERY:
            with self.database.transaction() as db:
                row = db.get(WebSession, id_hash(session.session_id))
                if row is not None:
                    row.last_seen_at = now
        else:
            return
        if session.session_id:
            # No Max-Age: the cookie goes with the browser; the server ends the session when idle.
            response.set_cookie(COOKIE_NAME, session.session_id, **cookie)


def end_every_session(database, account_id: int) -> int:
    """Sign-out everywhere: every browser signed in as this account is signed out."""
    with database.transaction() as db:
        return db.execute(delete(WebSession).where(WebSession.account_id == account_id)).rowcount


def purge_ended(database, config, now: datetime) -> int:
    """Delete sessions idle past the longest timeout (each is refused at open already; this
    only keeps the table small). Run by the portal's relay process now and then."""
    longest = max([*config.idle_timeout.values(), ANONYMOUS_IDLE])
    with database.transaction() as db:
        return db.execute(delete(WebSession).where(WebSession.last_seen_at < now - longest)).rowcount
