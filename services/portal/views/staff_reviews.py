"""The review queue at /staff/reviews (issue 13): open booking reviews with the organisation's
integrity record, decided on a case page.

The desk decides who may decide (staff and admins) and that a case is decided once (its 409);
the page shows that answer plainly. Overdue is the desk's own rule: a case is due by the end of
the first working day after the request reached it (services_desk/domain/reviews.py).
"""

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for

from services.portal.clients import ApiError
from services.portal.domain import reviews_api
from services.portal.models import Account
from services.portal.views.helpers import booking_client, current_account, desk_client, runtime
from services.portal.views.staff_auth import staff_required

blp = Blueprint("staff_reviews", __name__)

PER_PAGE = 20
# A card in the queue names the newest few violations; the case page lists more.
QUEUE_VIOLATIONS_SHOWN = 3
# A series' dates on its card, before "…" (a series may have 52).
QUEUE_DATES_SHOWN = 6
DECISIONS = ("approve", "reject")
# The desk's DecisionSchema: a reason of at most 500 characters.
REASON_MAX = 500


@blp.app_template_filter("as_date")
def as_date(text: str) -> date:
    """An API's calendar day ("2026-12-07", the desk's due_date) as a date, for month_day()."""
    return date.fromisoformat(text)


def page_number() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) <= 100_000 else 1


def venues_by_id(client) -> dict[int, dict]:
    return {venue["id"]: venue for venue in client.venues()}


@blp.get("/staff/reviews")
@staff_required
def queue():
    page = page_number()
    booking = booking_client()
    answer = reviews_api.open_reviews(desk_client(), page, PER_PAGE)
    standings: dict = {}
    violations: dict = {}
    cases = []
    for case in answer["items"]:
        first_day = reviews_api.station_day(case["start"])
        others = reviews_api.others_by_day(case, reviews_api.venue_bookings(booking, case["venue"]["id"], first_day,
                                                                            first_day))
        organisation = reviews_api.organisation_standing(booking, case, standings)
        if organisation["live"] and organisation["recent_violations"] and organisation["id"] not in violations:
            violations[organisation["id"]] = reviews_api.recent_violations(booking, organisation["id"])
        cases.append({"case": case, "organisation": organisation, "others": others.get(first_day, []),
                      "violations": violations.get(organisation["id"], [])[:QUEUE_VIOLATIONS_SHOWN]})
    pages = max(1, -(-answer["total"] // PER_PAGE))
    return render_template("reviews/queue.html", cases=cases, total=answer["total"], page=page, pages=pages,
                           venues=venues_by_id(booking), dates_shown=QUEUE_DATES_SHOWN)


def open_case(review_id: int) -> dict:
    try:
        return reviews_api.review(desk_client(), review_id)
    except ApiError as exc:
        if exc.status == 404:
            abort(404)
        raise


def decider_name(decided_by: str | None) -> str | None:
    """Who decided, in words: a portal account's username (the desk records the token's subject,
    `portal:<account id>`), else the desk's own record as it is."""
    if decided_by and decided_by.startswith("portal:") and decided_by[7:].isdigit():
        with runtime().database.reader() as db:
            account = db.get(Account, int(decided_by[7:]))
        if account is not None and account.username:
            return account.username
    return decided_by


def case_page(review_id: int, errors: dict | None = None, reason: str = "", status: int = 200):
    case = open_case(review_id)
    booking = booking_client()
    organisation = reviews_api.organisation_standing(booking, case, {})
    violations = reviews_api.recent_violations(booking, organisation["id"]) if organisation["live"] else []
    detail = reviews_api.booking_now(booking, case)
    just_decided = request.args.get("decided") if case["decided_by"] == current_account().subject else None
    return render_template(
        "reviews/case.html", case=case, organisation=organisation, violations=violations,
        others=reviews_api.same_day_bookings(booking, case), occurrences=reviews_api.occurrences(case),
        statuses=reviews_api.occurrence_statuses(detail), contact=detail["contact"] if detail else None,
        venues=venues_by_id(booking), decider=decider_name(case["decided_by"]), just_decided=just_decided,
        errors=errors or {}, reason=reason,
        reason_max=REASON_MAX), status


@blp.get("/staff/reviews/<int:review_id>")
@staff_required
def review_case(review_id: int):
    return case_page(review_id)


@blp.post("/staff/reviews/<int:review_id>/decision")
@staff_required
def decision(review_id: int):
    decided = request.form.get("decision")
    if decided not in DECISIONS:
        abort(400)
    reason = request.form.get("reason", "").strip() if decided == "reject" else ""
    errors: dict = {}
    if decided == "reject" and not reason:
        errors["reason"] = ["rev_reason_required"]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [("rev_reason_too_long", {"most": REASON_MAX})]
    if not errors:
        try:
            reviews_api.decide(desk_client(), review_id, decided, reason or None)
        except ApiError as refusal:
            if refusal.status == 404:
                abort(404)
            if refusal.status == 409:  # decided meanwhile (by a colleague, or the booker withdrew): said plainly
                return case_page(review_id, status=409)
            if refusal.status not in (400, 422):
                raise
            errors["reason" if "reason" in refusal.fields else "form"] = [("api_said", {"message": refusal.message})]
        else:
            return redirect(url_for("staff_reviews.review_case", review_id=review_id, decided=decided))
    return case_page(review_id, errors=errors, reason=reason, status=422)
