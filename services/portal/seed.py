"""The portal keeps no demo data: accounts are made at first sign-in, from the phone
numbers the booking service's demo organisations have (services/booking/seed_data.py)."""


def seed(session) -> dict:
    return {}
