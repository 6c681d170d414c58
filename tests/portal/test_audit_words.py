"""Every action the station records in its audit log (shared/audit.py) is named in words on the
admin's audit page, in both languages: the page never shows a code like `credit.adjust`."""

import re
from pathlib import Path

from services.portal.i18n import MESSAGES

ROOT = Path(__file__).resolve().parents[2]
# record_change(session, who, "organization.update", ...), or the portal's accounts' wrapper
# audited(session, admin, "account.disable", ...): the action is the first string literal.
ACTION = re.compile(r'(?:record_change|audited)\([^"]*?"([a-z_]+\.[a-z_]+)"')
# The one action made at run time: f"review.{decision}" with the desk's two decisions.
DECIDED = ("review.approve", "review.reject")


def recorded_actions() -> set[str]:
    actions = set(DECIDED)
    for path in (ROOT / "services").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        actions |= set(ACTION.findall(text.replace("\n", " ")))
        actions |= {f"{a}.{b}" for a, b in re.findall(r'"([a-z_]+)\.(create|update)" if', text)}
    return actions


def test_the_scan_finds_the_actions_it_should():
    assert {"template.update", "organization.create", "credit.adjust", "account.disable"} <= recorded_actions()


def test_every_recorded_action_has_words_in_both_languages():
    missing = sorted(a for a in recorded_actions() if f"adm_action_{a}" not in MESSAGES)
    assert missing == []
    for action in recorded_actions():
        zh, en = MESSAGES[f"adm_action_{action}"]
        assert zh and en and "." not in zh


def test_every_template_the_station_seeds_has_a_name_on_the_admin_pages():
    """A template without words would show its key, one long unbreakable word on a phone."""
    from services.notify.seed import TEMPLATES

    keys = {key for key, _locale in TEMPLATES}
    assert "booking_received" in keys
    assert sorted(k for k in keys if f"adm_tpl_{k}" not in MESSAGES) == []
