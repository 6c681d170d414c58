"""Errors as SPEC §4 has them: `{"error": {"code", "message", "fields"}}`, never a traceback.

Domain code raises the DomainError subclasses below; the HTTP layer turns them
into JSON, and a task turns them into a dead letter.
"""

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 422
    code = "refused"

    def __init__(self, message: str, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class Refused(DomainError):
    """Well-formed input that the station's rules refuse."""


class Malformed(DomainError):
    """A request that is not well-formed: a body no parser should follow to its end."""

    status = 400
    code = "bad_request"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 429: "too_many_requests",
    503: "unavailable",
}

HTTP_MESSAGES = {
    400: "请求格式有误 The request is malformed.",
    401: "需要登录 Authentication required.",
    403: "无权执行此操作 You may not do this.",
    404: "未找到 Not found.",
    405: "不支持该方法 Method not allowed.",
    413: "请求过大 The request is too large.",
    415: "请使用 JSON Send JSON (Content-Type: application/json).",
    422: "输入有误,请检查标出的字段 Some fields are invalid.",
    429: "请求过于频繁,请稍后再试 Too many requests, try again later.",
}


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def flatten_webargs_messages(messages) -> dict:
    """webargs reports {"json": {...}, "query": {...}}; clients want the fields."""
    fields = {}
    if isinstance(messages, dict):
        for location, errors in messages.items():
            if isinstance(errors, dict):
                fields.update(errors)
            else:
                fields[location] = errors
    return fields


def handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    fields = flatten_webargs_messages(data.get("messages", {}))
    message = HTTP_MESSAGES.get(status, exc.description or exc.name)
    if status == 422 and not fields:
        message = exc.description or message
    return error_response(status, HTTP_CODES.get(status, "error"), message, fields)


def handle_domain_error(exc: DomainError):
    return error_response(exc.status, exc.code, exc.message, exc.fields)


def handle_unexpected(exc: Exception):
    log.exception("unhandled error")
    return error_response(500, "internal_error", "服务器内部错误,请稍后再试 Internal error, please try again later.")


def register_error_handlers(app) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)
