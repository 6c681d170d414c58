"""Errand tickets (代办): created at the counter, by a resident, or by another system;
moved by staff along the status machine of SPEC §4, with working-day deadlines.

`POST /tickets` and the `desk.create_ticket` task both call `create_ticket`.
Its `owner` is who opened the ticket, whole (`Principal.identity` in shared/auth.py, or
TASK_OWNER): the idempotency key is looked up within that owner's tickets only,
and a resident sees only the tickets whose owner is their identity.
"""

from datetime import date

from sqlalchemy import select

from services.services_desk.models import Ticket, TicketEvent, TicketType
from shared import contracts
from shared.errors import Conflict, Forbidden, NotFound, Refused
from shared.outbox import enqueue
from shared.personal_data import mainland_mobile, resident_id_number
from shared.settings import Settings

SUBMITTED, ACCEPTED, IN_PROGRESS = "submitted", "accepted", "in_progress"
WAITING, DONE, REJECTED = "waiting_on_resident", "done", "rejected"
TRANSITIONS = {
    SUBMITTED: (ACCEPTED, REJECTED),
    ACCEPTED: (IN_PROGRESS, REJECTED),
    IN_PROGRESS: (WAITING, DONE, REJECTED),
    WAITING: (IN_PROGRESS, REJECTED),
    DONE: (),
    REJECTED: (),
}
FINAL = (DONE, REJECTED)
# desk.create_ticket carries no token: every system posting it is one owner, and a key it reuses
# for another resident is refused (docs/tasks.md).
TASK_OWNER = "task"
# The steps a resident is told about, and the template that tells them.
RESIDENT_NOTICES = {ACCEPTED: "ticket_accepted", WAITING: "ticket_waiting", DONE: "ticket_done",
                    REJECTED: "ticket_rejected"}
# Back to work from waiting: the documents the resident was asked for are in (SPEC §5, "told at each step").
RESUMED_NOTICE = "ticket_resumed"


def create_ticket(session, data: dict, actor: str, owner: str, calendar, today: date) -> Ticket:
    key = data.get("idempotency_key")
    if key:
        existing = session.scalar(select(Ticket).where(Ticket.owner == owner, Ticket.idempotency_key == key))
        if existing is not None:
            _refuse_reuse_for_another_resident(existing, data)
            return existing
    ticket_type = session.get(TicketType, data["type"])
    if ticket_type is None or not ticket_type.active:
        raise Refused(f"没有这类代办事项 No errand type {data['type']!r}; see GET /ticket-types.",
                      {"type": ["unknown errand type"]}, code="unknown_type")
    resident = data["resident"]
    ticket = Ticket(
        idempotency_key=key, type=ticket_type, resident_name=resident["name"],
        resident_phone=_checked(mainland_mobile, resident["phone"], "resident.phone"),
        resident_email=resident.get("email"),
        resident_id_number=_checked(resident_id_number, resident["id_number"], "resident.id_number")
        if resident.get("id_number") else None,
        summary=data["summary"], details=data.get("details") or "", status=SUBMITTED,
        due_date=calendar.due_date(today, ticket_type.limit_working_days), created_by=actor, owner=owner,
    )
    session.add(ticket)
    _record(session, ticket, "created", actor, to_status=SUBMITTED)
    session.flush()
    return ticket


def _refuse_reuse_for_another_resident(existing: Ticket, data: dict) -> None:
    """A repeat is the same request again. The same key for another resident is a mistake (or, from
    the shared task owner, another system's key): refused, naming neither resident."""
    try:
        phone = mainland_mobile(data["resident"]["phone"])
    except ValueError:
        phone = data["resident"]["phone"]
    if phone != existing.resident_phone:
        raise Conflict("该幂等键已用于另一位居民的工单 This idempotency key was already used for another "
                       "resident's ticket; choose a new key.", {"idempotency_key": ["already used"]},
                       code="idempotency_key_reused")


def _checked(check, value: str, field: str) -> str:
    try:
        return check(value)
    except ValueError as exc:
        raise Refused(f"{field}: {exc}", {field: [str(exc)]}) from None


def transition(session, ticket_id: int, to_status: str, actor: str, reason: str | None = None,
               missing_documents: list | None = None, portal_url: str = Settings.portal_url) -> Ticket:
    ticket = get_ticket(session, ticket_id)
    allowed = TRANSITIONS[ticket.status]
    if to_status not in allowed:
        raise Conflict(f"不能从“{ticket.status}”改为“{to_status}” A ticket that is {ticket.status} can go to: "
                       f"{', '.join(allowed) or 'nothing (it is closed)'}.",
                       {"status": [f"allowed: {', '.join(allowed) or 'none'}"]}, code="invalid_transition")
    if to_status == WAITING and not missing_documents:
        raise Refused("请写明缺少的材料 Say which documents are missing.", {"missing_documents": ["required"]})
    if to_status == REJECTED and not (reason or "").strip():
        raise Refused("退回须说明理由 A rejection needs a reason.", {"reason": ["required"]})
    from_status, ticket.status = ticket.status, to_status
    if to_status == WAITING:
        ticket.missing_documents = list(missing_documents)
    if to_status == REJECTED:
        ticket.rejection_reason = reason
    _record(session, ticket, "transition", actor, from_status, to_status,
            reason or ("missing: " + "; ".join(missing_documents) if missing_documents else None))
    if to_status in RESIDENT_NOTICES:
        tell_resident(session, ticket, RESIDENT_NOTICES[to_status], portal_url)
    elif from_status == WAITING and to_status == IN_PROGRESS:
        tell_resident(session, ticket, RESUMED_NOTICE, portal_url)
    return ticket


def tell_resident(session, ticket: Ticket, template: str, portal_url: str = Settings.portal_url) -> None:
    """One SMS at a step that concerns the resident; no ID or phone number in the text.

    The done SMS links to the portal's follow-up question (issue 12: the resident answers "from the
    link in the SMS"); notify keeps such a link whole only when it leads into YIZHAN_PORTAL_URL."""
    params = {"ticket_id": str(ticket.id), "errand": ticket.type.name_zh}
    params.update({
        "ticket_accepted": {"due_date": ticket.due_date.isoformat()},
        "ticket_waiting": {"missing": "、".join(ticket.missing_documents or [])},
        "ticket_rejected": {"reason": ticket.rejection_reason or ""},
        "ticket_done": {"link": f"{portal_url.rstrip('/')}/errands/{ticket.id}/follow-up"},
    }.get(template, {}))
    enqueue(session, contracts.SEND_MESSAGE, {
        "v": contracts.CONTRACT_VERSION,
        "idempotency_key": f"ticket:{ticket.id}:{template}:{len(ticket.history)}",
        "channel": "sms", "recipient": ticket.resident_phone, "template": template, "params": params,
        "locale": "zh-CN",
    })


def assign(session, ticket_id: int, assignee: str, actor: str) -> Ticket:
    ticket = get_ticket(session, ticket_id)
    if ticket.status in FINAL:
        raise Conflict(f"工单已结束 Ticket {ticket_id} is {ticket.status}.", {"status": [ticket.status]},
                       code="invalid_transition")
    previous, ticket.assignee = ticket.assignee, assignee
    _record(session, ticket, "assigned", actor, text=f"{previous or '—'} → {assignee}")
    return ticket


def add_note(session, ticket_id: int, text: str, actor: str) -> Ticket:
    ticket = get_ticket(session, ticket_id)
    _record(session, ticket, "note", actor, text=text)
    return ticket


def record_follow_up(session, ticket_id: int, satisfaction: int, remark: str | None, actor: str) -> Ticket:
    """After `done`, staff ask the resident how it went (满意度回访)."""
    ticket = get_ticket(session, ticket_id)
    if ticket.status != DONE:
        raise Conflict(f"办结后才能回访 A follow-up comes after done; this ticket is {ticket.status}.",
                       {"status": [ticket.status]}, code="invalid_transition")
    ticket.satisfaction, ticket.follow_up_remark = satisfaction, remark
    _record(session, ticket, "follow_up", actor, text=f"satisfaction {satisfaction}/5" + (f": {remark}" if remark else ""))
    return ticket


def record_residents_follow_up(session, ticket_id: int, satisfaction: int, remark: str | None, actor: str,
                               owner: str) -> Ticket:
    """The resident's own answer from the SMS link: their ticket only, and once (a second tap changes nothing)."""
    ticket = get_ticket(session, ticket_id)
    if ticket.owner != owner:
        raise Forbidden("只能回答本人的工单 A resident answers only for their own tickets.")
    if ticket.satisfaction is not None:
        raise Conflict("已经回答过了，谢谢 This follow-up was already answered; thank you.",
                       {"satisfaction": ["already answered"]}, code="already_answered")
    return record_follow_up(session, ticket_id, satisfaction, remark, actor)


def record_personal_data_view(session, ticket: Ticket, actor: str) -> None:
    _record(session, ticket, "viewed", actor, text="personal data shown unmasked")


def _record(session, ticket, kind, actor, from_status=None, to_status=None, text=None) -> None:
    session.add(TicketEvent(ticket=ticket, kind=kind, actor=actor, from_status=from_status, to_status=to_status,
                            text=text))


def deadline_flag(ticket: Ticket, calendar, today: date) -> str | None:
    """`overdue` past the due date, `due_soon` within one working day; None when closed or in time."""
    if ticket.status in FINAL:
        return None
    if ticket.due_date < today:
        return "overdue"
    if ticket.due_date <= calendar.add_working_days(today, 1):
        return "due_soon"
    return None


def deadline_flag_condition(flag: str, calendar, today: date) -> tuple:
    """`deadline_flag` as a query condition on open tickets, for the workbench's lists."""
    if flag == "overdue":
        return (Ticket.due_date < today,)
    return (Ticket.due_date >= today, Ticket.due_date <= calendar.add_working_days(today, 1))


def get_ticket(session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"没有这个工单 No ticket {ticket_id}.")
    return ticket
