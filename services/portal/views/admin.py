"""Administration, admins only: errand types, message templates, staff accounts, dead letters and the audit log, under /admin (issue 13)."""

from flask import Blueprint

blp = Blueprint("admin", __name__)
