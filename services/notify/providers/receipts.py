"""What SMS providers post back to us: delivery receipts and replies (inbound SMS).

Every provider's `parse_receipts(body, headers, query)` returns the same two lists:
receipts as (reference, "delivered" | "failed", detail) and inbound SMS as (phone, text).
It raises ValueError for a body it cannot read or a signature that does not match.
"""

import json
import re

DELIVERED = "delivered"
FAILED = "failed"

Receipts = list[tuple[str, str, str]]
Inbound = list[tuple[str, str]]

_MAINLAND_MOBILE = re.compile(r"^(?:\+86|0086|86)?(1\d{10})$")


def read_json(body: bytes):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"the callback body is not UTF-8 JSON ({exc})") from None


def json_items(payload) -> list[dict]:
    """Providers push either one object or an array of them; always give back the array."""
    items = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(item, dict) for item in items):
        raise ValueError("the callback body must be a JSON object or an array of objects")
    return items


def mainland_mobile(number, country_code: str = "86") -> str:
    """'+8613812345678', '8613812345678' and ('13812345678', '86') all become '13812345678'."""
    number = str(number).strip().replace(" ", "")
    country_code = str(country_code or "86").lstrip("+")
    if country_code != "86":
        return f"+{country_code}{number}"
    match = _MAINLAND_MOBILE.match(number)
    return match.group(1) if match else number


def header(headers, name: str) -> str | None:
    """Look a header up by name whatever its case (a plain dict is case-sensitive)."""
    if hasattr(headers, "get") and headers.get(name) is not None:
        return headers.get(name)
    wanted = name.lower()
    return next((value for key, value in dict(headers).items() if key.lower() == wanted), None)


def parse_generic(payload) -> tuple[Receipts, Inbound]:
    """Our own callback format, spoken by the `http` gateway (and accepted by `log` in development):

        {"receipts": [{"reference": "...", "status": "delivered" | "failed", "detail": "..."}],
         "inbound":  [{"from": "13812345678", "text": "TD"}]}
    """
    if not isinstance(payload, dict):
        raise ValueError("the callback body must be a JSON object with 'receipts' and/or 'inbound'")
    receipts, inbound = [], []
    for item in json_items(payload.get("receipts") or []):
        status = item.get("status")
        if not item.get("reference") or status not in (DELIVERED, FAILED):
            raise ValueError("each receipt needs a 'reference' and a 'status' of 'delivered' or 'failed'")
        receipts.append((str(item["reference"]), status, str(item.get("detail") or "")))
    for item in json_items(payload.get("inbound") or []):
        if not item.get("from") or item.get("text") is None:
            raise ValueError("each inbound SMS needs 'from' and 'text'")
        inbound.append((mainland_mobile(item["from"]), str(item["text"])))
    return receipts, inbound
