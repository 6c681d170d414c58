"""The booking API's organisation calls the staff pages make (issue 13), as the signed-in staff account:
the API decides what staff may change, and refuses with its own words and fields."""

from urllib.parse import quote

from flask import g

from services.portal.clients import BookingClient, Caller
from services.portal.views.helpers import current_account, portal, runtime


class OrganisationsClient(BookingClient):
    def organizations(self, name: str = "", page: int = 1, per_page: int = 20) -> dict:
        return self.get("/organizations", page=page, per_page=per_page, **({"name": name} if name else {}))

    def create(self, body: dict) -> dict:
        return self.request("POST", "/organizations", json=body)

    def update(self, organization_id: int, changes: dict) -> dict:
        return self.request("PATCH", f"/organizations/{organization_id}", json=changes)

    def contact_phones(self, organization_id: int) -> list[dict]:
        return self.get(f"/organizations/{organization_id}/contact-phones")["items"]

    def add_contact_phone(self, organization_id: int, phone: str) -> dict:
        return self.request("POST", f"/organizations/{organization_id}/contact-phones", json={"phone": phone})

    def remove_contact_phone(self, organization_id: int, phone: str) -> None:
        self.request("DELETE", f"/organizations/{organization_id}/contact-phones/{quote(phone, safe='')}")

    def adjust_credit(self, organization_id: int, points: int, reason: str) -> dict:
        return self.request("POST", f"/organizations/{organization_id}/credit-adjustments",
                            json={"points": points, "reason": reason})

    def lift_suspension(self, organization_id: int, reason: str) -> dict:
        return self.request("POST", f"/organizations/{organization_id}/lift-suspension", json={"reason": reason})


def organisations_client() -> OrganisationsClient:
    """The booking API as the signed-in staff account."""
    config = portal().config
    return OrganisationsClient(config.api_urls["booking"], runtime().settings.secret_key, Caller.of(current_account()),
                               config.api_token_ttl_seconds, g.get("request_id", ""))
