"""The portal: the station's pages for residents and organisation contacts (issue 12).

Server-rendered HTML over the three APIs. It owns accounts, sign-in codes and
sessions, and reads no other service's database: each page calls an API with a
token minted for the signed-in account (services/portal/clients.py).
"""

import logging
from dataclasses import dataclass
from datetime import date

from flask import Flask, g, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from services.portal.config import PortalConfig
from services.portal.domain.sessions import ServerSideSessions
from services.portal.headers import PortalHeaders
from services.portal.i18n import both, locale, month_day, t
from services.portal.models import INFRASTRUCTURE
from services.portal.views import (account, admin, errors, numbers, org, public, resident, screen, staff_auth, staff_counter,
                                   staff_orgs, staff_reviews)
from shared.db import utcnow
from shared.logs import configure_logging, new_request_id, request_id_var
from shared.security_headers import SecurityHeaders
from shared.service_app import ServiceDefinition, ServiceRuntime
from shared.settings import PORTAL, load_settings

log = logging.getLogger(__name__)

# Forms are a phone number and a code; nothing the portal takes is large.
MAX_REQUEST_BYTES = 64 * 1024


@dataclass
class PortalContext:
    config: PortalConfig
    # The domain's clock; a test moves it instead of sleeping.
    clock: object = utcnow


def create_app(settings=None) -> Flask:
    settings = (settings or load_settings()).check()
    app = Flask(__name__)
    configure_logging(PORTAL, settings.log_level)
    config = PortalConfig.from_settings(settings)
    app.config.update(SECRET_KEY=settings.secret_key, DEBUG=settings.debug, MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
                      SESSION_COOKIE_NAME="yizhan_session", WTF_CSRF_TIME_LIMIT=None,
                      TEMPLATES_AUTO_RELOAD=settings.debug)
    # The same runtime handle as the APIs': the database finds the outbox relay through it.
    runtime = ServiceRuntime(app, ServiceDefinition(PORTAL, "驿站 Yizhan portal", INFRASTRUCTURE), settings)
    app.extensions["yizhan"] = runtime
    database = runtime.database
    context = PortalContext(config)
    app.extensions["portal"] = context
    app.session_interface = ServerSideSessions(database, config, clock=lambda: context.clock())
    CSRFProtect(app)
    register_request_id(app)
    app.jinja_env.globals.update(t=t, both=both, locale=locale, month_day=month_day)
    app.jinja_env.filters["isodate"] = date.fromisoformat
    for blueprint in (public.blp, account.blp, staff_auth.blp, org.blp, resident.blp, staff_reviews.blp, staff_counter.blp,
                      staff_orgs.blp, admin.blp, numbers.blp, screen.blp):
        app.register_blueprint(blueprint)
    errors.register(app)
    # Behind the gateway: trust one proxy for client address and scheme (the portal sits at /).
    app.wsgi_app = PortalHeaders(SecurityHeaders(ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)))
    return app


def register_request_id(app: Flask) -> None:
    @app.before_request
    def take_request_id():
        g.request_id = request.headers.get("X-Request-ID", "")[:64] or new_request_id()
        g.request_id_token = request_id_var.set(g.request_id)

    @app.teardown_request
    def forget_request_id(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
