"""Gaps end to end: ground-truth days stored with gaps cut on purpose, found against the simulator's bars.

Three sessions of two symbols around New Year's Day (a holiday) are stored from the synthetic
market's ground truth, minus a missing day, two holes and a cut-off close; ``oss20.gaps`` must
find exactly those, to the minute, with the true number of trades in each, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import oss20
from oss20.config import Settings
from oss20.iqfeed.client import FeedUnavailable
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.storage.arctic import TickStore
from tests.integration.test_validate import free_port

pytestmark = pytest.mark.integration
OSS20 = Path(sys.executable).with_name("oss20")
FIRST, LAST = dt.date(2024, 12, 30), dt.date(2025, 1, 2)
SESSIONS = (dt.date(2024, 12, 30), dt.date(2024, 12, 31), dt.date(2025, 1, 2))
NOW = pd.Timestamp("2025-01-02 20:00", tz="America/New_York")
"""The finished simulator's clock: every session of the range is over and within reach."""
CUTS = [
    ("AAPL", dt.date(2024, 12, 31), "09:30", "16:00", "missing session"),
    ("AAPL", dt.date(2024, 12, 30), "11:00", "11:20", "hole"),
    ("KO", dt.date(2025, 1, 2), "10:00", "10:30", "hole"),
    ("KO", dt.date(2024, 12, 31), "15:00", "16:00", "partial session"),
]
"""(symbol, session, from, to, reason): regular-hours ticks in [from, to) are not stored."""


def at(day: dt.date, hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{day} {hhmm}", tz="America/New_York")


def settings_for(sim: Simulator, root: Path) -> Settings:
    return Settings(
        data_dir=str(root),
        level1_port=sim.ports["level1"],
        lookup_port=sim.ports["lookup"],
        admin_port=sim.ports["admin"],
    )


def store_with_cuts(market: Market, settings: Settings) -> None:
    store = TickStore(settings.resolved_arctic_uri)
    for symbol in ("AAPL", "KO"):
        for day in SESSIONS:
            ticks = market.ticks(symbol, day)
            for cut_symbol, cut_day, lo, hi, reason in CUTS:
                if (cut_symbol, cut_day) == (symbol, day):
                    stamps = ticks["timestamp"]
                    drop = (stamps >= at(day, lo)) & (stamps < at(day, hi))
                    if reason != "hole":  # a missing day or a cut close loses its after hours too
                        drop |= stamps >= at(day, lo)
                    ticks = ticks[~drop]
            store.merge(ticks)


def expected(market: Market) -> pd.DataFrame:
    """The gaps the cuts make, from the ground truth: a missing session spans its hours; the other
    gaps run from the first to the end of the last minute the truth traded in within the cut."""
    rows = []
    for symbol, day, lo, hi, reason in CUTS:
        stamps = market.ticks(symbol, day)["timestamp"]
        inside = stamps[(stamps >= at(day, lo)) & (stamps < at(day, hi))]
        start, end = at(day, lo), at(day, hi)
        if reason != "missing session":
            start, end = inside.min().floor("min"), inside.max().floor("min") + pd.Timedelta(minutes=1)
        rows.append((symbol, day, start, end, len(inside), reason, True))
    columns = ["symbol", "session", "start", "end", "expected_trades", "reason", "reachable"]
    return pd.DataFrame(rows, columns=columns).sort_values(["symbol", "start"]).reset_index(drop=True)


def test_gaps_cut_on_purpose_are_found_exactly(
    finished_sim: Simulator, market: Market, tmp_path: Path
) -> None:
    settings = settings_for(finished_sim, tmp_path)
    store_with_cuts(market, settings)
    found = oss20.gaps(["AAPL", "KO"], FIRST, LAST, now=NOW, settings=settings)
    truth = expected(market)
    pd.testing.assert_frame_equal(
        found.astype({"expected_trades": "int64"}),
        truth,
        check_dtype=False,
    )
    assert (truth["end"] - truth["start"] >= pd.Timedelta(minutes=15)).all(), "each cut took traded minutes"

    blind = oss20.gaps("AAPL", FIRST, LAST, feed=False, now=NOW, settings=settings)
    assert blind["expected_trades"].isna().all()
    assert list(zip(blind["session"], blind["reason"], strict=True)) == [
        (dt.date(2024, 12, 30), "hole"),
        (dt.date(2024, 12, 31), "missing session"),
    ], "without the feed: the missing day and the 20-minute quiet stretch"
    later = oss20.gaps("AAPL", FIRST, LAST, now=NOW + pd.Timedelta(days=200), settings=settings)
    assert not later["reachable"].any(), "200 days on, tick history no longer reaches them"


def test_cli_prints_the_gaps_and_refuses_bad_input(
    finished_sim: Simulator, market: Market, tmp_path: Path
) -> None:
    store_with_cuts(market, settings_for(finished_sim, tmp_path))
    env = {
        **os.environ,
        "OSS20_DATA_DIR": str(tmp_path),
        "OSS20_LEVEL1_PORT": str(finished_sim.ports["level1"]),
        "OSS20_LOOKUP_PORT": str(finished_sim.ports["lookup"]),
        "OSS20_ADMIN_PORT": str(finished_sim.ports["admin"]),
        "COLUMNS": "160",
    }
    args = [OSS20, "gaps", "AAPL", "KO", "--start", str(FIRST), "--end", str(LAST)]
    ok = subprocess.run(args, env=env, capture_output=True, timeout=120)
    assert ok.returncode == 0, ok.stderr.decode()[-2000:]
    out = ok.stdout.decode()
    rows = [line for line in out.splitlines() if line.startswith("│ AAPL") or line.startswith("│ KO")]
    truth = expected(market)
    assert len(rows) == len(truth)
    for row, gap in zip(rows, truth.itertuples(), strict=True):
        cells = [cell.strip() for cell in row.strip("│").split("│")]
        assert cells[:6] == [
            gap.symbol,
            str(gap.session),
            gap.start.strftime("%H:%M"),
            gap.end.strftime("%H:%M"),
            f"{gap.expected_trades:,}",
            gap.reason,
        ]
    total = f"{truth['expected_trades'].sum():,}"
    summary = (
        "4 gaps in 6 symbol-sessions (missing session 1, partial session 1, hole 2);"
        f" {total} expected trades; 0 out of tick history's reach"  # by the feed's clock
    )
    assert summary in out, out[-500:]
    bad = subprocess.run([OSS20, "gaps", "AA/PL", "--start", str(FIRST)], env=env, capture_output=True)
    assert bad.returncode == 2 and b"AA/PL" in bad.stderr and b"Traceback" not in bad.stderr
    wrong = subprocess.run([OSS20, "gaps", "AAPL", "--start", "2025-13-01"], env=env, capture_output=True)
    assert wrong.returncode == 2 and b"2025-13-01" in wrong.stderr and b"Traceback" not in wrong.stderr


def test_a_feed_that_cannot_be_reached_says_how_to_go_on(market: Market, tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path), lookup_port=free_port())
    TickStore(settings.resolved_arctic_uri).merge(market.ticks("KO", LAST))
    with pytest.raises(FeedUnavailable, match="--no-feed"):
        oss20.gaps("KO", LAST, now=NOW, settings=settings)
    blind = oss20.gaps("KO", LAST, feed=False, now=NOW, settings=settings)
    assert "missing session" not in set(blind["reason"]) and blind["expected_trades"].isna().all()
