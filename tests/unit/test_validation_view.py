"""What the validation dashboard reads, as pure functions: day scores, open alerts, results kept
current from bus events, and the ticks a check blames."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from oss20.bus import ValidationEvent
from oss20.schema import TICK_COLUMNS, TIMESTAMP, empty_frame
from oss20.validation.offenders import (
    OFFENDER_COLUMNS,
    offending_ranges,
    offending_ticks,
    truncation_note,
)
from oss20.validation.overview import (
    RESULT_COLUMNS,
    SCORE_COLUMNS,
    apply_outcomes,
    day_scores,
    empty_results,
    open_alerts,
)
from oss20.validation.report import score
from oss20.validation.results import CheckResult

D1, D2 = dt.date(2025, 1, 2), dt.date(2025, 1, 3)


def results(*rows: tuple[str, dt.date, int, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [(s, d, t, c, st, {}, {"message": f"{c} said {st}"}) for s, d, t, c, st in rows],
        columns=RESULT_COLUMNS,
    )


SAMPLE = results(
    ("AAPL", D1, 1, "rules", "pass"),
    ("AAPL", D1, 2, "bad_prints", "fail"),
    ("AAPL", D1, 3, "minute_bars", "warn"),
    ("KO", D1, 1, "rules", "pass"),
    ("KO", D2, 4, "holes", "fail"),
    ("KO", D2, 1, "quarantine", "warn"),
)


def test_day_scores_follow_the_reports_score_and_worst_status() -> None:
    scores = day_scores(SAMPLE)
    assert list(scores.columns) == SCORE_COLUMNS
    assert list(zip(scores["symbol"], scores["day"], strict=True)) == [
        ("AAPL", "2025-01-02"),
        ("KO", "2025-01-02"),
        ("KO", "2025-01-03"),
    ]
    aapl = [
        CheckResult(1, "rules", "pass"),
        CheckResult(2, "bad_prints", "fail"),
        CheckResult(3, "m", "warn"),
    ]
    ko = [CheckResult(4, "holes", "fail"), CheckResult(1, "quarantine", "warn")]
    assert scores["score"].tolist() == [score(aapl), 100, score(ko)]
    assert scores["status"].tolist() == ["fail", "pass", "fail"]
    assert scores["failed"].tolist() == [1, 0, 1] and scores["warned"].tolist() == [1, 0, 1]
    assert scores["checks"].iloc[0] == "t2 bad_prints, t3 minute_bars" and scores["checks"].iloc[1] == ""


def test_no_results_give_empty_frames_with_their_columns() -> None:
    assert day_scores(empty_results()).empty and list(day_scores(empty_results()).columns) == SCORE_COLUMNS
    assert open_alerts(empty_results()).empty


def test_open_alerts_are_recent_failures_first() -> None:
    alerts = open_alerts(SAMPLE)
    assert list(zip(alerts["symbol"], alerts["day"], alerts["check"], strict=True)) == [
        ("KO", "2025-01-03", "holes"),
        ("AAPL", "2025-01-02", "bad_prints"),
        ("KO", "2025-01-03", "quarantine"),
        ("AAPL", "2025-01-02", "minute_bars"),
    ]
    assert alerts["message"].iloc[0] == "holes said fail"
    assert open_alerts(SAMPLE, days=1)["day"].unique().tolist() == ["2025-01-03"]
    with pytest.raises(ValueError, match="at least 1"):
        open_alerts(SAMPLE, days=0)


def test_events_replace_their_check_or_add_a_new_one() -> None:
    events = [
        ValidationEvent("AAPL", "2025-01-02", 2, "bad_prints", "pass", {"bad_prints": 0}),
        ValidationEvent("MSFT", "2025-01-03", 1, "rules", "fail", {"failing": 3}),
    ]
    frame, touched = apply_outcomes(SAMPLE, events)
    assert touched == {("AAPL", "2025-01-02"), ("MSFT", "2025-01-03")}
    assert len(frame) == len(SAMPLE) + 1
    row = frame[(frame["symbol"] == "AAPL") & (frame["check"] == "bad_prints")].iloc[0]
    assert row["status"] == "pass" and row["metrics"] == {"bad_prints": 0} and row["details"] == {}
    assert frame["day"].iloc[-1] == D2 and frame["tier"].dtype == np.int64
    assert day_scores(frame).set_index(["symbol", "day"]).loc[("MSFT", "2025-01-03"), "score"] == 60
    assert apply_outcomes(SAMPLE, []) == (SAMPLE, set())


def day_ticks(n: int = 6) -> pd.DataFrame:
    frame = empty_frame(TICK_COLUMNS).reindex(range(n))
    stamps = pd.date_range("2025-01-02 09:30", periods=n, freq="min", tz="America/New_York")
    return frame.assign(
        timestamp=stamps.astype(TIMESTAMP),
        price=100.0 + np.arange(n),
        size=100,
        bid=99.0,
        ask=101.0,
        market_center=np.int16(5),
        tick_id=np.arange(n) + 10,
    )


def test_offenders_are_the_rows_a_check_names() -> None:
    ticks = day_ticks()
    out = offending_ticks(ticks, empty_frame(TICK_COLUMNS), 2, "bad_prints", {"rows": [4, 1, 99]})
    assert list(out.columns) == OFFENDER_COLUMNS
    assert out["row"].tolist() == [1, 4] and out["tick_id"].tolist() == [11, 14]
    assert set(out["reason"]) == {"bad_prints"} and out["timestamp"].dtype == TIMESTAMP
    assert offending_ticks(ticks, empty_frame(TICK_COLUMNS), 2, "spreads", {"rows": []}).empty


def test_offenders_of_a_range_check_are_the_ticks_inside_its_ranges() -> None:
    ticks = day_ticks()
    ranges = [["2025-01-02T09:31:00-05:00", "2025-01-02T09:33:00-05:00"]]
    out = offending_ticks(ticks, empty_frame(TICK_COLUMNS), 3, "minute_bars", {"rows": [], "ranges": ranges})
    assert out["row"].tolist() == [1, 2]
    assert offending_ranges({"ranges": ranges})[0][0] == pd.Timestamp(
        "2025-01-02 09:31", tz="America/New_York"
    )


def test_quarantine_blames_the_ticks_that_were_never_stored() -> None:
    kept = day_ticks(2).assign(symbol="AAPL", price=[-1.0, -2.0], reason=["price_range", "duplicate"])
    out = offending_ticks(day_ticks(), kept, 1, "quarantine", {"rows": [0]})
    assert out["row"].isna().all() and out["reason"].tolist() == ["price_range", "duplicate"]
    assert out["price"].tolist() == [-1.0, -2.0]
    assert offending_ticks(day_ticks(), empty_frame(TICK_COLUMNS), 1, "quarantine", {}).empty


def test_truncation_note_says_what_the_catalog_left_out() -> None:
    assert truncation_note({"rows": [1, 2], "row_count": 2, "ranges": [], "range_count": 0}) == ""
    assert truncation_note({"rows": [1, 2], "row_count": 250}) == "first 2 of 250 rows"
