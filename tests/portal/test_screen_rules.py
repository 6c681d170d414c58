"""The screen's and the door's choices over the booking API's answers (services/portal/domain/screen.py):
what the wall shows as under way, later or over, and which booking the door offers to check in."""

from datetime import datetime

from services.portal.domain.screen import board, door_booking, door_candidates, door_state
from shared.timefmt import STATION_TZ

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=STATION_TZ)
VENUES = [{"id": 2, "bookable": True, "name_zh": "党建活动区"}, {"id": 3, "bookable": True, "name_zh": "党群会议室"},
          {"id": 4, "bookable": True, "name_zh": "图书阅览区"}]


def at(hhmm: str) -> str:
    return f"2026-12-02T{hhmm}:00+08:00"


def item(venue_id: int, start: str, end: str, **more) -> dict:
    return {"kind": "booking", "venue_id": venue_id, "start": at(start), "end": at(end), "title": "t", **more}


def booking(start: str, end: str, status: str = "approved", opens: str | None = None, closes: str | None = None,
            **more) -> dict:
    return {"id": more.pop("id", 1), "start": at(start), "end": at(end), "status": status,
            "check_in_opens": at(opens or start), "check_in_closes": at(closes or end), **more}


def test_the_board_marks_what_is_under_way_and_later_and_counts_what_is_over():
    busy, free, finished = board(VENUES, [item(3, "08:00", "09:30"), item(3, "09:30", "10:30"),
                                          item(3, "11:00", "12:00"), item(2, "14:00", "15:00")], NOW)
    assert [(day.venue["id"], [i["state"] for i in day.items]) for day in busy] == [(2, ["later"]),
                                                                                   (3, ["under_way", "later"])]
    assert [venue["id"] for venue in free] == [4] and finished == 1


def test_an_item_of_a_venue_the_catalogue_does_not_list_is_left_out():
    busy, _, finished = board(VENUES, [item(99, "09:00", "11:00")], NOW)
    assert busy == [] and finished == 0


def test_the_door_offers_the_booking_whose_check_in_is_open_before_one_already_checked_in():
    done = booking("09:00", "10:30", "checked_in", id=1)
    next_one = booking("10:30", "11:30", opens="09:45", closes="11:00", id=2)
    assert door_booking([done, next_one], NOW)["id"] == 2
    assert door_state(next_one, NOW) == "open" and door_state(done, NOW) == "checked_in"


def test_before_its_window_the_door_names_the_next_booking_and_after_it_says_closed():
    later = booking("12:00", "13:00", opens="11:45", closes="12:30")
    assert door_booking([later], NOW) is later and door_state(later, NOW) == "too_early"
    missed = booking("09:00", "11:00", opens="08:45", closes="09:30")
    assert door_state(missed, NOW) == "closed"


def test_the_door_leaves_out_ended_cancelled_and_pending_bookings():
    found = door_candidates([booking("08:00", "09:00", id=1), booking("10:30", "11:00", "cancelled", id=2),
                             booking("10:30", "11:00", "pending_review", id=3), booking("11:00", "12:00", id=4),
                             booking("09:30", "10:30", "checked_in", id=5)], NOW)
    assert [b["id"] for b in found] == [5, 4]
    assert door_booking([], NOW) is None
