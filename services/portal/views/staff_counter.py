"""The counter workbench: walk-in errands, the ticket lists and a ticket's steps, at /staff/counter (issue 13)."""

from flask import Blueprint

blp = Blueprint("staff_counter", __name__)
