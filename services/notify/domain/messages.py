"""Messages: accepted once per idempotency key, protected for residents, then delivered.

As GOV.UK Notify does, the worker sends only a message still in the state
that allows sending (`accepted`), so a redelivered task sends nothing twice.
A message is `suppressed` (never sent) when its recipient opted out, when the
daily SMS cap is reached, when the organisation it is sent for (`on_behalf_of`)
reached its own daily cap for that recipient, or when quiet hours would hold it
past its expiry. A sign-in code (`kind` sign_in) is essential: an opt-out does
not stop it, and it is counted under its own daily cap, apart from the notices'
(a resident who turned SMS off must still be able to sign in). Recipients are
kept in one normal form (E.164; an address with its domain lower-cased), so
every cap and opt-out sees each spelling as one.
An idempotency key belongs to its poster (`idempotency_scope`).

A message due now is sent by the `notify.send_message` task that accepted it, right after
that task's commit (tasks.py); one accepted over HTTP (`POST /messages`, which must not wait on
a provider) is queued for `notify.deliver_message` through the outbox instead. Held messages
go out with `release_held`; anything left `accepted` or `sending` is queued again by
`requeue_stuck`, whichever path lost it.
"""

import functools
from datetime import datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import bindparam, event, exists, func, select
from sqlalchemy.orm import Session

from services.notify.domain.templates import render, sms_params, sms_segments, unknown_template
from services.notify.models import Message, MessageStatusChange, OptOut, Template
from shared import contracts
from shared.db import UTCDateTime, one_of, utcnow
from shared.errors import NotFound, Refused
from shared.outbox import enqueue
from shared.timefmt import STATION_TZ, to_station_time

ACCEPTED, SENDING, SENT, DELIVERED, FAILED, SUPPRESSED = "accepted", "sending", "sent", "delivered", "failed", "suppressed"
FINAL_STATUSES = (DELIVERED, FAILED, SUPPRESSED)
COUNTED_FOR_CAP = (ACCEPTED, SENDING, SENT, DELIVERED)
NOTICE, SIGN_IN = "notice", "sign_in"


# Whoever posts on the `notify` Redis list: tasks return nothing to their poster, so one scope is enough.
TASK_SCOPE = "task"


def normal_recipient(channel: str, recipient: str) -> str:
    """The stored form, or Refused naming `recipient` (a payload not checked by the contract)."""
    try:
        return contracts.message_recipient(channel, recipient)
    except ValueError as exc:
        raise Refused(f"收件人无效 recipient: {exc}", {"recipient": [str(exc)]}) from None


def accept_message(session, data: dict, policy, now: datetime | None = None,
                   scope: str = TASK_SCOPE, queue: bool = True) -> tuple[Message, bool]:
    """(message, created): the first message for this key from this scope, rendered, checked, and queued or held.

    `queue=False`: a message due now is not queued for `notify.deliver_message`, because the
    caller sends it itself once this transaction has committed (the send_message task). It goes in
    already `sending`, its first attempt counted, as the caller's claim (`delivery.claim_accepted`)
    records it, so that the row just written is not updated in the same transaction; the claim
    gives it back (`accepted`, no attempt) when it cannot take the message's send lock."""
    now = now or utcnow()
    channel, params, kind = data["channel"], data.get("params", {}), data.get("kind", NOTICE)
    try:
        recipient = normal_recipient(channel, data["recipient"])
    except Refused:
        existing = _first_for_key(session, scope, data["idempotency_key"])
        if existing is None:
            raise
        return existing, False
    facts = _what_to_know(session, data, scope, recipient, now)
    if facts is None:  # no such template: a repeat of a key still returns its first message
        existing = _first_for_key(session, scope, data["idempotency_key"])
        if existing is None:
            raise unknown_template(data["template"], data.get("locale", "zh-CN"))
        return existing, False
    if facts.existing_id is not None:
        return session.get(Message, facts.existing_id), False
    template = facts.Template
    texts = render(template, channel, params, policy.sms_param_max_chars, policy.portal_url)
    message = Message(
        idempotency_scope=scope, idempotency_key=data["idempotency_key"], channel=channel, recipient=recipient,
        on_behalf_of=data.get("on_behalf_of"),
        template=data["template"], locale=template.locale,
        # An SMS keeps the values it was sent with: Aliyun and Tencent fill their own templates from them.
        params=sms_params(params, policy.sms_param_max_chars) if channel == "sms" else params,
        subject=texts["subject"][:200] if texts["subject"] else None, body=texts["body"], html_body=texts["html"],
        sms_template_code=template.sms_template_code if channel == "sms" else None,
        segments=sms_segments(texts["body"]) if channel == "sms" else None,
        urgent=data.get("urgent", False), kind=kind, expires_at=data.get("expires_at"),
        status=ACCEPTED, created_at=now, updated_at=now,
    )
    # Decided before the INSERT, so the row goes in as it stays (held or suppressed) and its
    # history rows go in together at the commit: no UPDATE of a row just written.
    reason = _suppression(message, facts, policy, now)
    if reason:
        message.status, message.status_reason = SUPPRESSED, reason
    elif not queue and due_now(message):
        message.status, message.attempts = SENDING, 1
    session.add(message)
    session.flush()
    add_history(session, message.id, ACCEPTED, at=now)
    if reason:
        add_history(session, message.id, SUPPRESSED, reason, at=now)
    elif queue and due_now(message):
        queue_delivery(session, message.id)
    return message, True


def _first_for_key(session, scope: str, key: str) -> Message | None:
    return session.scalar(_statements().first_for_key, {"scope": scope, "key": key})


def due_now(message: Message) -> bool:
    """Accepted and neither suppressed nor held for quiet hours: to be sent at once."""
    return message.status == ACCEPTED and message.send_after is None


def _what_to_know(session, data: dict, scope: str, recipient: str, now: datetime):
    """In one statement, whatever the accept has to know: the template, the message already
    accepted for this key (its id), whether the recipient opted out and how many messages
    count towards each cap that applies today. None when there is no such template."""
    kind, channel = data.get("kind", NOTICE), data["channel"]
    statement = _acceptance(kind == SIGN_IN, bool(data.get("on_behalf_of")), channel == "sms")
    day_start = datetime.combine(to_station_time(now).date(), time(0), tzinfo=STATION_TZ)
    return session.execute(statement, {
        "template": data["template"], "locale": data.get("locale", "zh-CN"), "scope": scope,
        "key": data["idempotency_key"], "recipient": recipient, "channel": channel, "day_start": day_start,
        "on_behalf_of": data.get("on_behalf_of")}).one_or_none()


@functools.cache
def _statements() -> SimpleNamespace:
    """The pieces of the accept's statement, built once: building them costs more than running them."""
    recipient, channel = bindparam("recipient"), bindparam("channel")
    for_key = (Message.idempotency_scope == bindparam("scope"), Message.idempotency_key == bindparam("key"))

    def counted_today(*conditions):
        """Other messages to this recipient on this channel since the station's midnight that count towards a cap."""
        return select(func.count(Message.id)).where(
            Message.recipient == recipient, Message.channel == channel, one_of(Message.status, COUNTED_FOR_CAP),
            Message.created_at >= bindparam("day_start", type_=UTCDateTime), *conditions).scalar_subquery()

    return SimpleNamespace(
        existing=select(Message.id).where(*for_key),
        first_for_key=select(Message).where(*for_key),
        opted_out=exists().where(OptOut.recipient == recipient, OptOut.channel == channel),
        for_them=counted_today(Message.on_behalf_of == bindparam("on_behalf_of")),
        notices=counted_today(Message.kind == NOTICE),
        sign_ins=counted_today(Message.kind == SIGN_IN),
    )


@functools.cache
def _acceptance(sign_in: bool, on_behalf: bool, sms: bool):
    """The accept's one statement for this kind of message: only the counts its caps need."""
    parts = _statements()
    columns = [Template, parts.existing.scalar_subquery().label("existing_id")]
    if sign_in:
        columns.append(parts.sign_ins.label("sign_ins"))
    else:
        columns.append(parts.opted_out.label("opted_out"))
        if on_behalf:
            columns.append(parts.for_them.label("for_them"))
        if sms:
            columns.append(parts.notices.label("notices"))
    return select(*columns).where(Template.key == bindparam("template"), Template.locale == bindparam("locale"))


def _suppression(message: Message, facts, policy, now: datetime) -> str | None:
    """Why this message must not be sent, or None. May hold it for quiet hours."""
    if message.kind == SIGN_IN:
        return _sign_in_suppression(facts, policy)
    if facts.opted_out:
        return "opted out 已退订"
    if message.on_behalf_of and facts.for_them >= policy.on_behalf_daily_cap:
        return (f"cap of {policy.on_behalf_daily_cap} messages a day from {message.on_behalf_of} to one recipient "
                "reached 已达该组织每日发送上限")
    if message.channel != "sms":
        return None
    if facts.notices >= policy.sms_daily_cap:
        return f"daily cap of {policy.sms_daily_cap} SMS reached 已达每日短信上限"
    if not message.urgent and in_quiet_hours(now, policy):
        message.send_after = end_of_quiet_hours(now, policy)
        if message.expires_at is not None and message.send_after > message.expires_at:
            return "quiet hours last past its expiry 免打扰时段后已过期"
    return None


def _sign_in_suppression(facts, policy) -> str | None:
    """A code the recipient asked for: no opt-out applies (they asked for it), only its own cap. It is
    urgent (never held for quiet hours), and delivery drops it once expired (domain/delivery.py)."""
    if facts.sign_ins >= policy.sign_in_daily_cap:
        return f"daily cap of {policy.sign_in_daily_cap} sign-in codes reached 已达每日登录验证码上限"
    return None


def in_quiet_hours(moment: datetime, policy) -> bool:
    clock = to_station_time(moment).time()
    if policy.quiet_start > policy.quiet_end:  # across midnight, 22:00–08:00
        return clock >= policy.quiet_start or clock < policy.quiet_end
    return policy.quiet_start <= clock < policy.quiet_end


def end_of_quiet_hours(moment: datetime, policy) -> datetime:
    local = to_station_time(moment)
    end = datetime.combine(local.date(), policy.quiet_end, tzinfo=STATION_TZ)
    return end if end > local else end + timedelta(days=1)


def delivery_payload(message_id: int) -> dict:
    return {"v": contracts.CONTRACT_VERSION, "message_id": message_id}


def queue_delivery(session, message_id: int, publish: bool = True):
    """`notify.deliver_message` for this message, through the outbox: published once this transaction
    commits; or, with `publish=False`, a net the relay publishes unless the caller marks it done
    (shared.outbox.enqueue). The outbox row."""
    return enqueue(session, contracts.DELIVER_MESSAGE, delivery_payload(message_id), publish=publish)


def record_status(session, message: Message, status: str, detail: str | None = None, at=None) -> None:
    at = at or utcnow()
    message.status, message.updated_at = status, at
    if status in (SUPPRESSED, FAILED):
        message.status_reason = detail
    add_history(session, message.id, status, detail, at)


_HISTORY = MessageStatusChange.__table__.insert()


def add_history(session, message_id: int, status: str, detail: str | None = None, at=None) -> None:
    """A row of the message's history, written with the transaction's others as one Core INSERT just
    before it commits (issue 14: through the unit of work, each row cost an INSERT ... RETURNING id on
    SQLite and its bookkeeping everywhere, 6 % of a `notify.send_message` task), or sooner, when the
    session reads before then: a read of `message.history` in the transaction sees it, as it saw the
    unit of work's rows after autoflush. A transaction that rolls back writes none."""
    session.info.setdefault("history_rows", []).append(
        {"message_id": message_id, "status": status, "detail": detail, "at": at or utcnow()})


@event.listens_for(Session, "before_commit")
def _write_history(session) -> None:
    rows = session.info.pop("history_rows", None)
    if rows:
        session.connection().execute(_HISTORY, rows)


@event.listens_for(Session, "after_soft_rollback")
def _forget_history(session, _previous_transaction) -> None:
    """Any rollback, even one with nothing begun at the database yet, drops the rows waiting."""
    session.info.pop("history_rows", None)


@event.listens_for(Session, "do_orm_execute")
def _write_history_before_reads(state) -> None:
    """Before a session with history rows waiting reads anything (a query, a lazy load), they are written."""
    if state.is_select and state.session.info.get("history_rows"):
        _write_history(state.session)


def release_held(session, now: datetime) -> int:
    """After quiet hours: queue the held messages whose time has come (a sweep, not a long countdown)."""
    held = session.scalars(select(Message).where(
        Message.status == ACCEPTED, Message.send_after.is_not(None), Message.send_after <= now,
        Message.updated_at < Message.send_after)).all()  # not yet released: untouched since it was held
    for message in held:
        message.updated_at = now
        queue_delivery(session, message.id)
    return len(held)


def requeue_stuck(session, policy, now=None) -> int:
    """Queue delivery again for messages left `accepted` (a lost task, a lost relay) or `sending`
    (a worker died mid-send), but not held ones; the send lock keeps a live send from repeating.

    A task taken by a worker that died comes back by itself (shared.broker, late acknowledgement);
    this sweep is the last net, for a message no task is left to finish."""
    now = now or utcnow()
    due = (Message.send_after.is_(None)) | (Message.send_after <= now)
    since = now - timedelta(seconds=policy.stuck_after_seconds)
    stuck = session.scalars(select(Message).where(
        Message.status.in_((ACCEPTED, SENDING)), due, Message.updated_at < since)).all()
    for message in stuck:
        message.updated_at = now
        queue_delivery(session, message.id)
    return len(stuck)


def opt_out(session, recipient: str, channel: str, source: str) -> OptOut:
    """Refused unless `recipient` is one valid recipient for the channel; stored in its normal form."""
    recipient = normal_recipient(channel, recipient)
    existing = session.scalar(select(OptOut).where(OptOut.recipient == recipient, OptOut.channel == channel))
    if existing is not None:
        return existing
    entry = OptOut(recipient=recipient, channel=channel, source=source)
    session.add(entry)
    session.flush()
    return entry


def find_opt_out(session, recipient: str, channel: str) -> OptOut:
    entry = session.scalar(select(OptOut).where(OptOut.recipient == normal_recipient(channel, recipient),
                                                OptOut.channel == channel))
    if entry is None:
        raise NotFound("此号码未退订 This recipient has not opted out.")
    return entry


def opt_in(session, recipient: str, channel: str) -> None:
    """The recipient wants messages again: their opt-out, if any, is removed."""
    entry = session.scalar(select(OptOut).where(OptOut.recipient == normal_recipient(channel, recipient),
                                                OptOut.channel == channel))
    if entry is not None:
        session.delete(entry)


def apply_receipt(session, provider: str, reference: str, status: str, detail: str) -> Message | None:
    """A provider's delivery report: sent → delivered | failed. A final status never changes again."""
    message = session.scalar(select(Message).where(Message.provider == provider,
                                                   Message.provider_reference == reference))
    if message is None or message.status in FINAL_STATUSES:
        return message
    record_status(session, message, DELIVERED if status == "delivered" else FAILED, f"{provider} receipt: {detail}")
    return message


def purge_bodies(session, now: datetime, policy) -> int:
    """After the retention period the texts go; who, when, which template and the statuses stay."""
    cutoff = now - timedelta(days=policy.retention_days)
    old = session.scalars(select(Message).where(Message.created_at < cutoff, Message.purged_at.is_(None),
                                                Message.status.in_((SENT, DELIVERED, FAILED, SUPPRESSED)))).all()
    for message in old:
        message.body = message.html_body = message.subject = None
        message.params = {}
        message.purged_at = now
    return len(old)


def masked(recipient: str) -> str:
    """For logs: `+8613800000201` → `+86138****0201`, `alice@example.org` → `a***@example.org`."""
    if "@" in recipient:
        return recipient[:1] + "***@" + recipient.rpartition("@")[2]
    return recipient[:-8] + "****" + recipient[-4:]


def get_message(session, message_id: int, only_scope: str | None = None) -> Message:
    """The message; NotFound also when `only_scope` is given and someone else posted it."""
    message = session.get(Message, message_id)
    if message is None or (only_scope is not None and message.idempotency_scope != only_scope):
        raise NotFound(f"没有这条消息 No message {message_id}.")
    return message
