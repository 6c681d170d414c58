"""One small client per API, as GOV.UK Notify's admin app sits on its API.

Each call carries a token minted for that call (120 s by default) with the
signed-in account's role, organisation and subject, so the API decides what
the account may do; a page can do nothing the API would not let the account do.
The API's refusal comes back as ApiError with its code, message and fields,
which a form puts next to the fields it names.
"""

import requests

from shared.auth import issue_token

TIMEOUT_SECONDS = 10


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


class ApiUnavailable(ApiError):
    def __init__(self, service: str):
        super().__init__(503, "service_unavailable", f"{service} is not answering")


class Caller:
    """Who the portal calls as: an account (role, subject, organisation), or the public (no one signed in)."""

    def __init__(self, role: str, subject: str, org_id: int | None = None):
        self.role, self.subject, self.org_id = role, subject, org_id

    @classmethod
    def public(cls) -> "Caller":
        # The least a token can be: the catalogue and free times are open to every role.
        return cls("resident", "portal:public")

    @classmethod
    def portal(cls) -> "Caller":
        return cls("system", "portal")

    @classmethod
    def of(cls, account) -> "Caller":
        return cls(account.role, account.subject, account.org_id)


class ApiClient:
    service = ""

    def __init__(self, base_url: str, secret: str, caller: Caller, token_ttl: int, request_id: str = ""):
        self.base_url, self.secret, self.caller, self.token_ttl = base_url, secret, caller, token_ttl
        self.request_id = request_id

    def _headers(self) -> dict:
        token = issue_token(self.secret, self.caller.role, self.caller.subject, self.caller.org_id, self.token_ttl)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if self.request_id:
            headers["X-Request-ID"] = self.request_id
        return headers

    def request(self, method: str, path: str, **kwargs):
        try:
            response = requests.request(method, self.base_url + path, headers=self._headers(), timeout=TIMEOUT_SECONDS,
                                        **kwargs)
        except requests.RequestException:
            raise ApiUnavailable(self.service) from None
        if response.status_code >= 500:
            raise ApiUnavailable(self.service)
        if response.status_code == 204:  # done, and nothing to say (a DELETE)
            return None
        try:
            body = response.json()
        except ValueError:
            raise ApiUnavailable(self.service) from None
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ApiError(response.status_code, error.get("code", "error"), error.get("message", ""), error.get("fields"))
        return body

    def get(self, path: str, **params):
        return self.request("GET", path, params=params or None)


class BookingClient(ApiClient):
    service = "booking"

    def venues(self) -> list[dict]:
        return self.get("/venues", per_page=100)["items"]

    def venue(self, venue_id: int) -> dict:
        return self.get(f"/venues/{venue_id}")

    def availability(self, venue_id: int, day) -> dict:
        return self.get(f"/venues/{venue_id}/availability", date=day.isoformat())

    def organization(self, organization_id: int) -> dict:
        return self.get(f"/organizations/{organization_id}")

    def organization_of_contact(self, phone: str) -> int | None:
        """The organisation whose contact has this phone (the `system` role's lookup), or None."""
        items = self.get("/organizations", contact_phone=phone)["items"]
        return items[0]["id"] if items else None

    # --- an organisation contact's own bookings (the API keeps an org to itself) -------------

    def bookings(self, organization_id: int, page: int = 1, per_page: int = 20, **filters) -> dict:
        return self.get("/bookings", organization_id=organization_id, page=page, per_page=per_page, **filters)

    def booking(self, booking_id: int) -> dict:
        return self.get(f"/bookings/{booking_id}")

    def request_booking(self, body: dict) -> dict:
        return self.request("POST", "/bookings", json=body)

    def cancel(self, booking_id: int, reason: str | None = None) -> dict:
        return self.request("POST", f"/bookings/{booking_id}/cancel", json={"reason": reason} if reason else {})

    def credit_events(self, organization_id: int, page: int = 1, per_page: int = 50) -> dict:
        return self.get(f"/organizations/{organization_id}/credit-events", page=page, per_page=per_page)

class DeskClient(ApiClient):
    """The resident's errands: the desk shows a resident only the tickets they opened."""

    service = "desk"

    def ticket_types(self) -> list[dict]:
        return [item for item in self.get("/ticket-types", per_page=100)["items"] if item.get("active", True)]

    def tickets(self) -> list[dict]:
        return self.get("/tickets", per_page=100)["items"]

    def ticket(self, ticket_id: int) -> dict:
        return self.get(f"/tickets/{ticket_id}")

    def open_ticket(self, body: dict) -> dict:
        return self.request("POST", "/tickets", json=body)

    def answer_follow_up(self, ticket_id: int, satisfaction: int) -> dict:
        return self.request("POST", f"/tickets/{ticket_id}/follow-up", json={"satisfaction": satisfaction})


class NotifyClient(ApiClient):
    """SMS on or off for one phone. Notify lets only staff and `system` touch opt-outs: the portal
    calls as `system`, and only ever with the signed-in account's own phone (views/resident.py)."""

    service = "notify"

    def sms_opted_out(self, phone: str) -> bool:
        try:
            self.get(f"/opt-outs/sms/{phone}")
        except ApiError as error:
            if error.status == 404:
                return False
            raise
        return True

    def opt_out_of_sms(self, phone: str) -> None:
        self.request("POST", "/opt-outs", json={"recipient": phone, "channel": "sms"})

    def opt_in_to_sms(self, phone: str) -> None:
        self.request("DELETE", f"/opt-outs/sms/{phone}")
