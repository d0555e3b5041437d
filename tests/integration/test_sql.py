"""``oss20.sql``: DuckDB over ArcticDB. Answers equal pandas on the market's ground truth, and the
symbol, day and time predicates are pushed down: the store is asked for those symbol-days and
those rows only (counted in what the query read)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import oss20
from oss20 import query
from oss20.config import Settings
from oss20.market import Market
from oss20.storage.arctic import TickStore

pytestmark = pytest.mark.integration
SYMBOLS = ["AAPL", "MSFT", "KO"]
DAYS = [dt.date(2025, 1, 2), dt.date(2025, 1, 3), dt.date(2025, 1, 6)]


@pytest.fixture(scope="module")
def stored(market: Market, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, pd.DataFrame]:
    """A store holding three symbols on three days, and those ticks as the market made them."""
    settings = Settings(data_dir=str(tmp_path_factory.mktemp("sql")))
    truth = pd.concat([market.ticks(s, d) for s in SYMBOLS for d in DAYS], ignore_index=True)
    TickStore(settings.resolved_arctic_uri).merge(truth)
    return settings, truth


def test_a_one_symbol_day_query_reads_that_symbol_day_and_answers_as_pandas(
    stored: tuple[Settings, pd.DataFrame],
) -> None:
    settings, truth = stored
    answer = query.run(
        "SELECT market_center, count(*) AS trades, sum(size) AS shares FROM ticks "
        "WHERE symbol = 'MSFT' AND day = '2025-01-03' GROUP BY market_center ORDER BY market_center",
        settings,
    )
    day = truth[(truth["symbol"] == "MSFT") & (truth["timestamp"].dt.date == DAYS[1])]
    expected = day.groupby("market_center").agg(trades=("size", "size"), shares=("size", "sum")).reset_index()
    got = answer.frame.astype({"market_center": "int16", "trades": "int64", "shares": "int64"})
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert answer.reads.keys == {"ticks": ["equity/MSFT/2025-01-03"]}
    assert answer.reads.rows["ticks"] == len(day)


def test_time_bounds_are_pushed_down_to_the_rows_read(stored: tuple[Settings, pd.DataFrame]) -> None:
    settings, truth = stored
    answer = query.run(
        "SELECT symbol, min(timestamp) AS first, max(timestamp) AS last, count(*) AS trades FROM ticks "
        "WHERE symbol IN ('AAPL', 'KO') AND timestamp >= '2025-01-06 10:00' "
        "AND timestamp < '2025-01-06 10:30' "
        "GROUP BY symbol ORDER BY symbol",
        settings,
    )
    start, end = (
        pd.Timestamp("2025-01-06 10:00", tz="America/New_York"),
        pd.Timestamp("2025-01-06 10:30", tz="America/New_York"),
    )
    window = truth[truth["symbol"].isin(["AAPL", "KO"]) & (truth["timestamp"] >= start)]
    window = window[window["timestamp"] < end]
    assert answer.frame["trades"].tolist() == window.groupby("symbol").size().tolist()
    assert answer.frame["first"].tolist() == window.groupby("symbol")["timestamp"].min().tolist()
    assert str(answer.frame["first"].dt.tz) == "America/New_York"
    assert answer.reads.keys["ticks"] == ["equity/AAPL/2025-01-06", "equity/KO/2025-01-06"]
    assert answer.reads.rows["ticks"] <= len(window) + 2  # ArcticDB's date_range is inclusive at the end


def test_no_predicate_reads_everything_and_still_answers(stored: tuple[Settings, pd.DataFrame]) -> None:
    settings, truth = stored
    answer = query.run("SELECT count(*) AS n, count(DISTINCT symbol) AS symbols FROM ticks", settings)
    assert answer.frame.iloc[0].tolist() == [len(truth), 3]
    assert len(answer.reads.keys["ticks"]) == len(SYMBOLS) * len(DAYS)


def test_bars_and_quality_views(stored: tuple[Settings, pd.DataFrame]) -> None:
    settings, _ = stored
    built = oss20.bars("AAPL", "5min", DAYS[0], DAYS[1], settings=settings)
    answer = query.run(
        "SELECT day, count(*) AS bars, sum(volume) AS volume FROM bars_time_bars "
        "WHERE symbol = 'AAPL' AND interval = '5min' GROUP BY day ORDER BY day",
        settings,
    )
    per_day = built.groupby(built["timestamp"].dt.date)["volume"].agg(["size", "sum"])
    assert answer.frame["bars"].tolist() == per_day["size"].tolist()
    assert answer.frame["volume"].tolist() == per_day["sum"].tolist()
    assert answer.reads.keys["bars_time_bars"] == ["AAPL/5min/2025-01-02", "AAPL/5min/2025-01-03"]

    oss20.quality("KO", DAYS[2], feed=False, settings=settings)
    scores = query.run(
        "SELECT symbol, day, min(score) AS score, count(*) AS checks, "
        "count(*) FILTER (status = 'fail') AS failed FROM quality WHERE symbol = 'KO' GROUP BY ALL",
        settings,
    ).frame
    assert scores[["symbol", "failed"]].values.tolist() == [["KO", 0]]
    assert (
        scores["day"].tolist() == [pd.Timestamp(DAYS[2])]
        and 0 < scores["score"].iloc[0] <= 100
        and scores["checks"].iloc[0] > 5
    )


def test_bad_sql_and_unknown_symbols_say_what_is_wrong(stored: tuple[Settings, pd.DataFrame]) -> None:
    settings, _ = stored
    with pytest.raises(query.SqlError, match="syntax error"):
        query.run("SELEC * FROM ticks", settings)
    with pytest.raises(query.SqlError, match=r"The store's views are: .*ticks"):
        query.run("SELECT * FROM tick", settings)
    with pytest.raises(query.UnknownSymbol, match=r"ticks holds no ZZZZ \(it holds AAPL, KO, MSFT\)"):
        query.run("SELECT * FROM ticks WHERE symbol = 'ZZZZ'", settings)
    with pytest.raises(ValueError, match="not a valid ticker"):
        query.run("SELECT * FROM ticks WHERE symbol = 'A; DROP'", settings)
    with pytest.raises(query.SqlError, match="SELECT"):
        query.run("DELETE FROM ticks", settings)


def test_explain_shows_the_reads_and_duckdbs_plan(stored: tuple[Settings, pd.DataFrame]) -> None:
    settings, _ = stored
    plan = oss20.sql(
        "SELECT avg(price) FROM ticks WHERE symbol = 'KO' AND day = '2025-01-02'",
        explain=True,
        settings=settings,
    )
    text = repr(plan)
    assert text.startswith("ticks: 1 stored keys,") and "ARROW_SCAN" in text.upper()
