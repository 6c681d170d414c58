"""The review queue: open booking reviews with the organisation's integrity record, decided at /staff/reviews (issue 13)."""

from flask import Blueprint

blp = Blueprint("staff_reviews", __name__)
