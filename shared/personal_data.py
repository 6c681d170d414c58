"""Residents' mobile numbers and ID numbers: checked on the way in, masked on the way out."""

import phonenumbers

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARACTERS = "10X98765432"


def mainland_mobile(text: str) -> str:
    """`+86 138-1234-5678` → `13812345678`; ValueError unless it is a mainland mobile number."""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if (number.country_code != 86 or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE):
        raise ValueError("not a mainland mobile number")
    return str(number.national_number)


def resident_id_number(text: str) -> str:
    """An 18-character resident ID number with a correct check character (GB 11643-1999)."""
    value = text.strip().upper()
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in ID_CHECK_CHARACTERS:
        raise ValueError("an ID number has 17 digits and a check digit or X")
    check = ID_CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS)) % 11]
    if value[17] != check:
        raise ValueError("the ID number's check digit is wrong")
    return value


def mask_mobile(number: str | None) -> str | None:
    """`13812345678` → `138****5678`."""
    return None if not number else f"{number[:3]}****{number[-4:]}"


def mask_id_number(value: str | None) -> str | None:
    """`460100199001011234` → `4601**********1234`."""
    return None if not value else f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"
