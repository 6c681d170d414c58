"""The administration pages' calls to the three APIs, as the signed-in admin: errand types (desk),
message templates and their preview (notify), dead letters and audit logs (every API).

Each call carries the admin's own token, so the API decides (admin only) and records who acted."""

from urllib.parse import quote

from services.portal.clients import ApiClient, Caller

SERVICES = ("booking", "desk", "notify")
# Enough for every row a station has; the APIs cap a page at 100.
PER_PAGE = 100


def segment(text: str) -> str:
    """A code or key as one path segment of the API's ("/", "?" and "#" escaped). A dot segment is
    not escapable (requests unquotes %2E): the pages pass only codes and keys without dots."""
    return quote(text, safe="")


class AdminApi:
    def __init__(self, api_urls: dict, secret: str, account, token_ttl: int, request_id: str = ""):
        caller = Caller.of(account)
        self.clients = {service: ApiClient(api_urls[service], secret, caller, token_ttl, request_id)
                        for service in SERVICES}
        for service, client in self.clients.items():
            client.service = service

    # --- errand types (desk) ------------------------------------------------------------------

    def ticket_types(self) -> list[dict]:
        return self.clients["desk"].get("/ticket-types", per_page=PER_PAGE)["items"]

    def ticket_type(self, code: str) -> dict | None:
        return next((item for item in self.ticket_types() if item["code"] == code), None)

    def create_ticket_type(self, body: dict) -> dict:
        return self.clients["desk"].request("POST", "/ticket-types", json=body)

    def change_ticket_type(self, code: str, body: dict) -> dict:
        return self.clients["desk"].request("PATCH", f"/ticket-types/{segment(code)}", json=body)

    # --- message templates (notify) -----------------------------------------------------------

    def templates(self) -> list[dict]:
        return self.clients["notify"].get("/templates", per_page=PER_PAGE)["items"]

    def template(self, key: str, locale: str) -> dict | None:
        return next((item for item in self.templates() if item["key"] == key and item["locale"] == locale), None)

    def preview_template(self, key: str, locale: str, texts: dict) -> dict:
        return self.clients["notify"].request("POST", f"/templates/{segment(key)}/preview", json={"locale": locale, **texts})

    def save_template(self, key: str, locale: str, texts: dict) -> dict:
        return self.clients["notify"].request("PATCH", f"/templates/{segment(key)}", json={"locale": locale, **texts})

    # --- dead letters and audit logs (each API its own) ----------------------------------------

    def dead_letters(self, service: str) -> dict:
        return self.clients[service].get("/dead-letters", per_page=PER_PAGE)

    def replay_dead_letter(self, service: str, dead_letter_id: int) -> dict:
        return self.clients[service].request("POST", f"/dead-letters/{dead_letter_id}/replay", json={})

    def audit_log(self, service: str) -> list[dict]:
        return self.clients[service].get("/audit-log", per_page=PER_PAGE)["items"]
