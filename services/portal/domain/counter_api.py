"""The desk's ticket endpoints as the counter workbench calls them, with the signed-in staff
member's token: the desk decides, the page only asks (STYLE.md, Pages)."""

from flask import g

from services.portal.clients import Caller, DeskClient
from services.portal.views.helpers import current_account, portal, runtime

# The workbench's lists and the desk's filters for each (services_desk/api/tickets.py).
LISTS = {
    "mine": lambda username: {"assignee": username, "open": "true"},
    "unassigned": lambda username: {"unassigned": "true", "open": "true"},
    "due_soon": lambda username: {"flag": "due_soon"},
    "overdue": lambda username: {"flag": "overdue"},
}


class CounterClient(DeskClient):
    """The desk as a member of staff at the counter."""

    def listed(self, name: str, username: str, page: int = 1, per_page: int = 20) -> dict:
        return self.get("/tickets", page=page, per_page=per_page, **LISTS[name](username))

    def move(self, ticket_id: int, status: str, reason: str | None = None,
             missing_documents: list[str] | None = None) -> dict:
        body = {"status": status}
        if reason:
            body["reason"] = reason
        if missing_documents:
            body["missing_documents"] = missing_documents
        return self.request("POST", f"/tickets/{ticket_id}/transition", json=body)

    def assign(self, ticket_id: int, assignee: str) -> dict:
        return self.request("POST", f"/tickets/{ticket_id}/assign", json={"assignee": assignee})

    def add_note(self, ticket_id: int, text: str) -> dict:
        return self.request("POST", f"/tickets/{ticket_id}/notes", json={"text": text})

    def reveal(self, ticket_id: int) -> dict:
        """The resident's numbers whole; the desk writes who asked into the ticket's history."""
        return self.request("POST", f"/tickets/{ticket_id}/reveal")


def counter_client() -> CounterClient:
    config = portal().config
    return CounterClient(config.api_urls["desk"], runtime().settings.secret_key, Caller.of(current_account()),
                         config.api_token_ttl_seconds, g.get("request_id", ""))
