"""What every service's `create_app()` is made of, one small named step at a time."""

import logging
from dataclasses import dataclass, field

from flask import Flask, current_app, g, request
from flask.sessions import SessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from shared import audit, observability, swagger_ui, work_counts
from shared.api import StationApi
from shared.celery_app import make_celery
from shared.contracts import MAX_JSON_DEPTH, holds_unstorable_text, nested_deeper_than
from shared.db import Database, Infrastructure
from shared.errors import Malformed, Refused
from shared.errors import register_error_handlers
from shared.logs import configure_logging, new_request_id, request_id_var
from shared.outbox import OutboxRelay
from shared.rate_limits import register_rate_limits
from shared.security_headers import register_security_headers
from shared.settings import Settings, load_settings

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1024 * 1024
UNSTORABLE_MESSAGE = "请求含有非法字符 The request contains a character no text can hold (NUL or a lone surrogate)."


@dataclass
class ServiceDefinition:
    name: str  # also its queue and the prefix of its task names
    title: str
    infrastructure: Infrastructure
    blueprints: list = field(default_factory=list)
    description: str = ""
    # Called as extend(app, settings) once the shared pieces exist: the service's own extensions.
    extend: object = None


class ServiceRuntime:
    """The one handle on a service's pieces, `app.extensions["yizhan"]`. Everything reaches it
    the same way: views as `current_runtime()`, tasks as `self.runtime` (their Celery app is made
    for this runtime, as Flask's Celery example closes its task class over the app), the worker
    as `celery.runtime`, and the database's transactions find the outbox relay through it."""

    def __init__(self, flask_app: Flask, definition: ServiceDefinition, settings: Settings):
        self.name = definition.name
        self.settings = settings
        self.flask_app = flask_app
        self.database = Database(settings.database_url(definition.name), definition.infrastructure, runtime=self)
        for engine in self.database.engines:
            work_counts.watch_engine(engine)
        work_counts.watch_redis()
        self.celery = make_celery(definition.name, settings, runtime=self)
        self.relay = OutboxRelay(self.database, self.celery)


class NoCookieSessions(SessionInterface):
    """The APIs keep no session: every request carries its own token (shared/auth.py). Flask's default
    opened its signed cookie session at every request all the same, building itsdangerous's serializer
    each time: 5 % of an availability request's instructions (issue 14). `flask.session` is Flask's
    NullSession here, which refuses any write."""

    def open_session(self, app, request):
        return None  # Flask then makes its NullSession

    def save_session(self, app, session, response):
        pass  # Flask never saves a NullSession; nothing else can be here


def create_service_app(definition: ServiceDefinition, settings: Settings | None = None) -> Flask:
    settings = (settings or load_settings()).check()
    app = Flask(definition.name)
    app.session_interface = NoCookieSessions()
    configure(app, definition, settings)
    configure_logging(definition.name, settings.log_level)
    runtime = register_extensions(app, definition, settings)
    register_work_counts(app)
    register_request_id(app)
    register_blueprints(app, definition)
    register_error_handlers(app)
    register_security_headers(app)
    swagger_ui.register_swagger_ui(app)
    app.extensions["limiter"] = register_rate_limits(app, settings)
    if definition.extend is not None:
        definition.extend(app, settings)
    log.debug("%s ready on database %s", runtime.name, runtime.database.engine.url.render_as_string())
    return app


def configure(app: Flask, definition: ServiceDefinition, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        DEBUG=settings.debug,
        REDIS_URL=settings.redis_url,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        JSON_SORT_KEYS=False,
        API_TITLE=definition.title,
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=swagger_ui.ASSETS_URL,
        # No badge from validator.swagger.io: it would send the spec's address out of the intranet.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        API_SPEC_OPTIONS={
            "info": {"description": definition.description},
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        },
    )
    # Behind the gateway: trust one proxy for client address, scheme and the /booking prefix.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)


def register_extensions(app: Flask, definition: ServiceDefinition, settings: Settings) -> ServiceRuntime:
    runtime = ServiceRuntime(app, definition, settings)
    app.extensions["yizhan"] = runtime
    app.extensions["celery"] = runtime.celery
    return runtime


def register_work_counts(app: Flask) -> None:
    """Count each request's SQL statements and Redis round trips (shared/work_counts.py): the first
    hook in, the last out, so the rate limiter and the outbox's publish after commit count too."""

    @app.before_request
    def begin_counting():
        g.work_count = work_counts.begin()

    @app.teardown_request
    def end_counting(_exc):
        begun = g.pop("work_count", None)
        if begun is not None:
            unit = request.url_rule.rule if request.url_rule else "unmatched"
            work_counts.end(current_app.extensions["yizhan"].name, unit, begun)


def register_request_id(app: Flask) -> None:
    @app.before_request
    def refuse_what_no_column_can_hold():
        # NUL (PostgreSQL refuses it) and lone surrogates (UTF-8 cannot encode them) are refused at
        # the door, before any view or database sees them; werkzeug already decodes the path and
        # the query with errors="replace", so there only NUL can arrive.
        if "\x00" in request.path or any("\x00" in v for v in request.args.values()):
            raise Refused(UNSTORABLE_MESSAGE, {"query": ["NUL character"]})
        if request.is_json and request.get_data(cache=True):
            body = json_body()
            if nested_deeper_than(body):
                raise too_deep()
            if holds_unstorable_text(body):
                raise Refused(UNSTORABLE_MESSAGE, {"json": ["NUL character or lone surrogate"]})

    @app.before_request
    def take_request_id():
        g.request_id = request.headers.get("X-Request-ID", "")[:64] or new_request_id()
        g.request_id_token = request_id_var.set(g.request_id)
        observability.start_timer()

    @app.after_request
    def give_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return observability.record_request(response)

    @app.teardown_request
    def forget_request_id(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)


def json_body():
    """The request's JSON, or None when it does not parse (the view's parser then says why).

    json.loads raises RecursionError, not ValueError, on arrays nested about a thousand
    deep, and werkzeug's get_json(silent=True) only silences ValueError.
    """
    try:
        return request.get_json(silent=True)
    except RecursionError:
        raise too_deep() from None


def too_deep() -> Malformed:
    return Malformed(f"JSON 嵌套过深 The JSON nests deeper than {MAX_JSON_DEPTH} levels.", {"json": ["nested too deep"]})


def register_blueprints(app: Flask, definition: ServiceDefinition) -> None:
    app.register_blueprint(observability.blueprint)
    api = StationApi(app)
    # Every API answers GET /audit-log for its own changes (shared/audit.py).
    for blueprint in (*definition.blueprints, audit.blp):
        api.register_blueprint(blueprint)
    app.extensions["api"] = api


def current_runtime() -> ServiceRuntime:
    from flask import current_app

    return current_app.extensions["yizhan"]
