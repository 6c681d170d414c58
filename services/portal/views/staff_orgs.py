"""Organisations for staff: create and edit, contact phones, the credit ledger and its adjustments, at /staff/organisations (issue 13)."""

from flask import Blueprint

blp = Blueprint("staff_orgs", __name__)
