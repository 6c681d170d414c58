"""The portal keeps almost no demo data: phone accounts are made at first sign-in, from the phone
numbers the booking service's demo organisations have (services/booking/seed_data.py).

On a development station (`make run`) only, one demo staff member with a known password and a
known TOTP secret, so the staff sign-in can be tried at once (`yizhan users totp demo-staff`
prints the current code). Never anywhere else: the secret is in this file.
"""

from services.portal.domain.staff_sign_in import create_account, find_staff
from shared.db import utcnow
from shared.settings import load_settings

DEMO_STAFF_USERNAME = "demo-staff"
DEMO_STAFF_PASSWORD = "yizhan-demo-staff"
DEMO_STAFF_TOTP_SECRET = "YIZHANDEMOSTAFF2FACTORSECRET7777"


def seed(session) -> dict:
    if load_settings().env != "development" or find_staff(session, DEMO_STAFF_USERNAME) is not None:
        return {}
    create_account(session, DEMO_STAFF_USERNAME, DEMO_STAFF_PASSWORD, "staff", utcnow(),
                   totp_secret=DEMO_STAFF_TOTP_SECRET, enrolled=True)
    return {"demo_staff": 1}
