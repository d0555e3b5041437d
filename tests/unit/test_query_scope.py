"""Which symbols, days, times and columns a SQL query needs from each store view: pushed down only
where the rows left out cannot change the answer."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from oss20.query.scope import Scope, scopes
from oss20.query.views import QUALITY_COLUMNS
from oss20.schema import BAR_COLUMNS, TICK_COLUMNS

COLUMNS = {
    "ticks": {"day", *TICK_COLUMNS},
    "bars_time_bars": {"interval", "day", *BAR_COLUMNS},
    "quality": set(QUALITY_COLUMNS),
}


def scope_of(query: str, view: str = "ticks") -> Scope:
    tree = json.loads(duckdb.execute("SELECT json_serialize_sql(?)", [query]).fetchone()[0])
    return scopes(tree, set(COLUMNS), COLUMNS)[view]


def ny(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="America/New_York")


def test_symbol_equality_in_list_and_or_of_equalities_pick_symbols() -> None:
    assert scope_of("select price from ticks where symbol = 'aapl'").symbols == {"AAPL"}
    assert scope_of("select price from ticks where symbol in ('AAPL', 'MSFT')").symbols == {"AAPL", "MSFT"}
    assert scope_of("select 1 from ticks where symbol = 'A' or symbol = 'B'").symbols == {"A", "B"}
    assert scope_of("select 1 from ticks where 'KO' = symbol and size > 10").symbols == {"KO"}


def test_what_could_drop_needed_rows_is_not_pushed_down() -> None:
    assert scope_of("select 1 from ticks where symbol = 'A' or size > 100").symbols is None
    assert scope_of("select 1 from ticks where not symbol = 'A'").symbols is None
    assert scope_of("select 1 from ticks where symbol like 'A%'").symbols is None
    assert scope_of("select 1 from ticks where symbol <> 'A'").symbols is None
    assert scope_of("select 1 from ticks where timestamp::date = '2025-01-02'").days() == (None, None)


def test_day_and_timestamp_bounds_pick_days_and_times() -> None:
    one_day = scope_of("select 1 from ticks where day = '2025-01-02'")
    assert one_day.days() == (dt.date(2025, 1, 2), dt.date(2025, 1, 2)) and one_day.start is None
    between = scope_of(
        "select 1 from ticks where timestamp between '2025-01-02 10:00' and timestamp '2025-01-06 11:00'"
    )
    assert (between.start, between.end) == (ny("2025-01-02 10:00"), ny("2025-01-06 11:00"))
    assert between.days() == (dt.date(2025, 1, 2), dt.date(2025, 1, 6))
    open_end = scope_of("select 1 from ticks where '2025-01-03' <= timestamp")
    assert open_end.start == ny("2025-01-03") and open_end.end is None
    tightest = scope_of(
        "select 1 from ticks where day >= '2025-01-02' and day >= '2025-01-06' and day < '2025-02-01'"
    )
    assert tightest.days() == (dt.date(2025, 1, 6), dt.date(2025, 2, 1))


def test_columns_are_the_ones_named_or_all_for_a_star() -> None:
    assert scope_of("select avg(price) from ticks where symbol = 'A'").columns == {"price", "symbol"}
    assert scope_of("select * from ticks where symbol = 'A'").columns is None


def test_aliases_joins_ctes_and_two_references_of_one_view() -> None:
    joined = scopes(
        json.loads(
            duckdb.execute(
                "SELECT json_serialize_sql(?)",
                [
                    "select t.price, b.close from ticks t join bars_time_bars b on t.symbol = b.symbol "
                    "where t.symbol = 'AAPL' and b.interval = '1min' and b.day = '2025-01-02'"
                ],
            ).fetchone()[0]
        ),
        set(COLUMNS),
        COLUMNS,
    )
    assert joined["ticks"].symbols == {"AAPL"} and joined["ticks"].days() == (None, None)
    assert joined["bars_time_bars"].intervals == {"1MIN"} and joined["bars_time_bars"].symbols is None
    assert joined["bars_time_bars"].days() == (dt.date(2025, 1, 2), dt.date(2025, 1, 2))
    cte = scope_of("with a as (select * from ticks where symbol = 'KO') select count(*) from a")
    assert cte.symbols == {"KO"}
    both = scope_of(
        "select * from ticks where symbol = 'A' "
        "union all select * from ticks where symbol = 'B' and day = '2025-01-02'"
    )
    assert both.symbols == {"A", "B"} and both.days() == (None, None)
    unscoped = scope_of("select * from ticks where symbol = 'A' union all select * from ticks")
    assert unscoped.symbols is None


@pytest.mark.parametrize("query", ["select 1 from ticks t where x.symbol = 'A'", "select 1 from ticks"])
def test_unknown_qualifiers_and_no_where_leave_the_view_whole(query: str) -> None:
    assert scope_of(query).symbols is None
