"""The portal keeps almost no demo data: phone accounts are made at first sign-in, from the phone
numbers the booking service's demo organisations have (services/booking/seed_data.py).

On a development station (`make run`) only, one demo staff member and one demo admin with known
passwords and known TOTP secrets, so the staff and admin pages can be tried at once
(`yizhan users totp demo-staff` prints the current code). Never anywhere else: the secrets are in
this file.
"""

from services.portal.domain.staff_sign_in import create_account, find_staff
from shared.db import utcnow
from shared.settings import load_settings

DEMO_STAFF_USERNAME = "demo-staff"
DEMO_STAFF_PASSWORD = "yizhan-demo-staff"
DEMO_STAFF_TOTP_SECRET = "YIZHANDEMOSTAFF2FACTORSECRET7777"
DEMO_ADMIN_USERNAME = "demo-admin"
DEMO_ADMIN_PASSWORD = "yizhan-demo-admin"
DEMO_ADMIN_TOTP_SECRET = "YIZHANDEMOADMIN2FACTORSECRET7777"
# (username, password, role, TOTP secret)
DEMO_ACCOUNTS = ((DEMO_STAFF_USERNAME, DEMO_STAFF_PASSWORD, "staff", DEMO_STAFF_TOTP_SECRET),
                 (DEMO_ADMIN_USERNAME, DEMO_ADMIN_PASSWORD, "admin", DEMO_ADMIN_TOTP_SECRET))


def seed(session) -> dict:
    if load_settings().env != "development":
        return {}
    made = 0
    for username, password, role, secret in DEMO_ACCOUNTS:
        if find_staff(session, username) is None:
            create_account(session, username, password, role, utcnow(), totp_secret=secret, enrolled=True)
            made += 1
    return {"demo_staff": made} if made else {}
