"""Every status a booking or a request outcome can have, named once (SPEC §4).

pending_review → approved | rejected | cancelled;
approved → cancelled | checked_in | no_show; checked_in → completed.
Code imports the names from here, so a status is spelled in one place, as the
desk keeps its own in domain/tickets.py and domain/reviews.py.
"""

PENDING_REVIEW, APPROVED, REJECTED, CANCELLED = "pending_review", "approved", "rejected", "cancelled"
CHECKED_IN, NO_SHOW, COMPLETED = "checked_in", "no_show", "completed"
ALL = (PENDING_REVIEW, APPROVED, REJECTED, CANCELLED, CHECKED_IN, NO_SHOW, COMPLETED)

# A booking in one of these holds its slot: no other booking of the venue may overlap it.
# Migration 0002 spells the same set in PostgreSQL's exclusion constraint.
HOLDING = (PENDING_REVIEW, APPROVED, CHECKED_IN)
# What counts against an organisation's monthly quota: everything but refused and withdrawn requests.
QUOTA = (PENDING_REVIEW, APPROVED, CHECKED_IN, COMPLETED, NO_SHOW)
# What a venue's public calendar feed shows.
ON_CALENDAR = (APPROVED, CHECKED_IN, COMPLETED)
# An organisation may cancel while the request waits or once approved.
CANCELLABLE = (PENDING_REVIEW, APPROVED)

# What became of a booking.request_booking task (GET /booking-requests/{key}).
OUTCOME_ACCEPTED, OUTCOME_REFUSED = "accepted", "refused"
