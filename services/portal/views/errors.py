"""Errors as pages: bilingual, in the site's frame, never a traceback (issue 12)."""

import logging

from flask import render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from services.portal.clients import ApiError, ApiUnavailable

log = logging.getLogger(__name__)

MESSAGES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "bad_request", 413: "bad_request",
            429: "too_many"}


# When even the error page cannot be drawn: still bilingual, still no traceback.
LAST_RESORT = "服务暂时出现问题，请稍后再试 Something went wrong on our side; try again shortly."


def page(status: int, message_id: str):
    try:
        return render_template("error.html", message_id=message_id, status=status), status
    except Exception:
        log.exception("the error page failed")
        return LAST_RESORT, status, {"Content-Type": "text/plain; charset=utf-8"}


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(_error):
        return page(400, "csrf_failed")

    @app.errorhandler(HTTPException)
    def http_error(error):
        return page(error.code or 500, MESSAGES.get(error.code, "server_error"))

    @app.errorhandler(ApiUnavailable)
    def api_unavailable(error):
        log.warning("an API did not answer: %s", error)
        return page(503, "api_unavailable")

    @app.errorhandler(ApiError)
    def api_refused(error):
        return page(404 if error.status == 404 else 403 if error.status in (401, 403) else 400,
                    MESSAGES.get(error.status, "bad_request"))

    @app.errorhandler(Exception)
    def unexpected(error):
        log.exception("portal error")
        return page(500, "server_error")
