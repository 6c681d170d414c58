"""The booking rules' numbers, from the environment (defaults in README.md).

The station's integrity (诚信) rules: bookers who do not keep their bookings
lose points; repeated violations suspend their booking rights for a while;
points come back over time.
"""

from dataclasses import dataclass

from shared.policy import policy_from_environ


@dataclass(frozen=True)
class BookingPolicy:
    notice_working_days: int = 3
    monthly_bookings: int = 4
    monthly_hours: int = 20
    max_occurrences: int = 52
    # How many days ahead one may book (Respa's "reservable days in advance").
    horizon_days: int = 180
    check_in_before_minutes: int = 15
    check_in_after_minutes: int = 30
    start_score: int = 100
    late_cancellation_points: int = -5
    late_cancellation_hours: int = 24
    no_show_points: int = -10
    violations_to_suspend: int = 3
    violation_window_days: int = 90
    suspension_days: int = 30
    monthly_recovery_points: int = 2

    ENV = {
        "notice_working_days": ("BOOKING_NOTICE_WORKING_DAYS", int),
        "monthly_bookings": ("BOOKING_MONTHLY_QUOTA", int),
        "monthly_hours": ("BOOKING_MONTHLY_HOURS", int),
        "max_occurrences": ("BOOKING_MAX_OCCURRENCES", int),
        "horizon_days": ("BOOKING_HORIZON_DAYS", int),
        "check_in_before_minutes": ("BOOKING_CHECK_IN_BEFORE_MINUTES", int),
        "check_in_after_minutes": ("BOOKING_CHECK_IN_AFTER_MINUTES", int),
        "start_score": ("CREDIT_START_SCORE", int),
        "late_cancellation_points": ("CREDIT_LATE_CANCELLATION_POINTS", int),
        "late_cancellation_hours": ("CREDIT_LATE_CANCELLATION_HOURS", int),
        "no_show_points": ("CREDIT_NO_SHOW_POINTS", int),
        "violations_to_suspend": ("CREDIT_VIOLATIONS_TO_SUSPEND", int),
        "violation_window_days": ("CREDIT_VIOLATION_WINDOW_DAYS", int),
        "suspension_days": ("CREDIT_SUSPENSION_DAYS", int),
        "monthly_recovery_points": ("CREDIT_MONTHLY_RECOVERY_POINTS", int),
    }

    # A century at most: every bookable date, and a year-long series after it, stays far from
    # datetime's last year (9999), so no date sum in the booking rules can overflow.
    LONGEST_HORIZON_DAYS = 36500

    def __post_init__(self):
        if not 1 <= self.horizon_days <= self.LONGEST_HORIZON_DAYS:
            raise ValueError(f"BOOKING_HORIZON_DAYS must be between 1 and {self.LONGEST_HORIZON_DAYS}, "
                             f"not {self.horizon_days}")

    @classmethod
    def from_env(cls, environ: dict) -> "BookingPolicy":
        return policy_from_environ(cls, environ, cls.ENV)
