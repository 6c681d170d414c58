"""The big screen (opened by a signed link, no personal data), its link and the venue door QR posters, and check-in from the door (issue 13)."""

from flask import Blueprint

blp = Blueprint("screen", __name__)
