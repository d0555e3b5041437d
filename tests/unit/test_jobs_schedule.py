"""Cron expressions and scheduled slots: every scheduler names a firing by the same slot."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from jobs.scheduler import cron, slot_of

NY = ZoneInfo("America/New_York")


def test_five_and_six_field_cron_and_bad_ones() -> None:
    assert cron("30 17 * * 1-5").get_next_fire_time(None, dt.datetime(2025, 1, 3, 18, tzinfo=NY)) == (
        dt.datetime(2025, 1, 6, 17, 30, tzinfo=NY)
    )
    assert cron("*/10 * * * * *").get_next_fire_time(None, dt.datetime(2025, 1, 3, 1, 0, 1, tzinfo=NY)) == (
        dt.datetime(2025, 1, 3, 1, 0, 10, tzinfo=NY)
    )
    for bad, message in [("* * *", "expected 5 fields"), ("61 * * * *", "bad cron expression '61")]:
        with pytest.raises(ValueError, match=message):
            cron(bad)


@pytest.mark.parametrize("late", [0.0, 0.3, 0.999])
def test_a_run_started_a_little_late_belongs_to_its_slot(late: float) -> None:
    slot = dt.datetime(2025, 1, 3, 17, 30, 5, tzinfo=NY)
    assert slot_of(cron("* * * * * *"), slot + dt.timedelta(seconds=late)) == slot
    daily = dt.datetime(2025, 1, 3, 17, 30, tzinfo=NY)
    assert slot_of(cron("30 17 * * 1-5"), daily + dt.timedelta(seconds=late * 20)) == daily


@pytest.mark.parametrize(
    ("weekday", "fires"),
    [("1-5", [6, 7, 8, 9, 10]), ("0", [5]), ("7", [5]), ("0-6/3", [4, 5, 8, 11]), ("sat,sun", [4, 5, 11])],
)
def test_weekdays_count_as_in_cron(weekday: str, fires: list[int]) -> None:
    trigger, now, days = cron(f"0 12 * * {weekday}"), dt.datetime(2025, 1, 4, 0, tzinfo=NY), []
    while (fire := trigger.get_next_fire_time(None, now)) and fire.day <= 11:
        days.append(fire.day)
        now = fire + dt.timedelta(seconds=1)
    assert days == fires
