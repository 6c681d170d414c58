"""The station's numbers for a month, admins only: tables, SVG charts, CSV and Excel, and the printable week calendar, under /admin/numbers (issue 13)."""

from flask import Blueprint

blp = Blueprint("numbers", __name__)
