"""Delivery receipts and replies from SMS providers.

Providers cannot send our bearer header, so the callback URL configured at the
provider carries a system token: `POST /receipts/http?token=<yizhan token --role system>`.
The generic HTTP gateway also signs its body (HMAC), checked by its provider class.
"""

from flask import request
from flask.views import MethodView

from services.notify.domain.messages import apply_receipt, opt_out
from services.notify.providers import SMS_PROVIDERS
from services.notify.schemas import ReceiptResultSchema
from shared.api import Blueprint
from shared.auth import decode_token
from shared.errors import Forbidden, NotFound, Refused, Unauthorized
from shared.settings import ConfigurationError
from shared.service_app import current_runtime

blp = Blueprint("receipts", __name__, url_prefix="/receipts", description="回执 Delivery receipts from providers")

OPT_OUT_WORDS = {"TD", "T", "退订", "N", "STOP", "UNSUBSCRIBE"}


def _authorised() -> None:
    header = request.headers.get("Authorization", "")
    token = header.partition(" ")[2].strip() if header.lower().startswith("bearer ") else request.args.get("token", "")
    if not token:
        raise Unauthorized("需要令牌 Send a token (Authorization header or ?token=).")
    from flask import current_app
    principal = decode_token(current_app.config["SECRET_KEY"], token)
    if not principal.has_role("system", "admin"):
        raise Forbidden("receipts need a system token")


def _opted_out(session, phone: str, provider: str) -> bool:
    """Opt the sender out; False when the provider's `from` is not a mobile number we could ever text."""
    try:
        opt_out(session, phone, "sms", f"inbound:{provider}")  # refused before it writes anything
    except Refused:
        return False
    return True


@blp.route("/<provider>")
class Receipts(MethodView):
    @blp.response(200, ReceiptResultSchema)
    def post(self, provider):
        """Apply a provider's delivery reports; a reply of TD/退订 opts the sender out."""
        _authorised()
        if provider not in SMS_PROVIDERS:
            raise NotFound(f"unknown provider {provider!r}")
        runtime = current_runtime()
        try:
            parser = SMS_PROVIDERS[provider](runtime.settings)
        except ConfigurationError as exc:
            raise NotFound(f"provider {provider!r} is not configured here: {exc}") from None
        try:
            receipts, inbound = parser.parse_receipts(request.get_data(), dict(request.headers), request.args.to_dict())
        except ValueError as exc:
            raise Refused(f"回执无法读取 Receipt refused: {exc}", {"body": [str(exc)]}) from None
        applied = opt_outs = 0
        with runtime.database.transaction() as session:
            for reference, status, detail in receipts:
                applied += apply_receipt(session, provider, reference, status, detail) is not None
            for phone, text in inbound:
                if text.strip().upper() in OPT_OUT_WORDS and _opted_out(session, phone, provider):
                    opt_outs += 1
        # Aliyun reads `code` (a number) and Tencent reads `result` == 0 as "received, do not push again".
        return {"receipts": len(receipts), "applied": applied, "opt_outs": opt_outs,
                "code": 0, "msg": "接收成功", "result": 0, "errmsg": "OK"}
