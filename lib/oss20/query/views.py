"""The store's SQL views as Arrow tables, each read only as far as its ``Scope`` reaches.

``ticks`` and ``bars_<family>`` are read from ArcticDB as Arrow (one batch read of the keys the
scope picks, columns and times pushed down); ``quality`` is read from the catalog's check results.
Every read is logged in ``Reads``, so what a query cost can be shown and tested.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
from arcticdb.version_store.library import Library, ReadRequest

from oss20.config import Settings
from oss20.query.scope import Scope
from oss20.schema import BAR_COLUMNS, TICK_COLUMNS, empty_frame
from oss20.storage import keys
from oss20.storage.arctic import open_arctic
from oss20.storage.catalog import open_catalog
from oss20.symbols import validate_symbol
from oss20.validation.report import PENALTIES

TICK_VIEW = "ticks"
QUALITY_VIEW = "quality"
BAR_PREFIX = "bars_"
QUALITY_COLUMNS = ("symbol", "day", "tier", "check", "status", "score", "metrics", "details", "run_at")


@dataclass
class Reads:
    """What a query read: per view, the storage keys (or catalog days) and the rows they gave."""

    keys: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def log(self, view: str, names: Sequence[str], rows: int) -> None:
        self.keys[view] = list(names)
        self.rows[view] = rows


class UnknownSymbol(ValueError):
    """A query names a symbol the view holds nothing of."""


def view_columns(uri: str) -> dict[str, set[str]]:
    """Every view of the store at ``uri`` and its columns (bar views: one per bar library)."""
    bar_columns = {"timestamp", "symbol", "interval", "day", *BAR_COLUMNS}
    views = {
        TICK_VIEW: {"day", *TICK_COLUMNS},
        QUALITY_VIEW: set(QUALITY_COLUMNS),
    }
    for name in open_arctic(uri).list_libraries():
        if name.startswith(BAR_PREFIX):
            views[name] = bar_columns
    for family in (keys.TIME_BARS, keys.VOLUME_BARS):
        views.setdefault(family, bar_columns)
    return views


def read_view(view: str, scope: Scope, settings: Settings, reads: Reads) -> pa.Table:
    """The rows of ``view`` that ``scope`` can need, as one Arrow table."""
    if view == QUALITY_VIEW:
        return _quality(scope, settings, reads)
    uri = settings.resolved_arctic_uri
    name = keys.TICKS if view == TICK_VIEW else view
    lib = open_arctic(uri).get_library(name, create_if_missing=True)
    picked = _keys(lib, view, scope)
    stored = _stored_columns(view)
    wanted = None if scope.columns is None else sorted(scope.columns & stored)
    window = (scope.start, scope.end) if scope.start is not None or scope.end is not None else None
    requests = [ReadRequest(k.name, date_range=window, columns=wanted) for k in picked]
    tables = [
        _with_keys(item.data, k, view)
        for item, k in zip(lib.read_batch(requests, output_format="pyarrow"), picked, strict=True)
    ]
    table = pa.concat_tables(tables, promote_options="default") if tables else _empty(view, wanted)
    table = _microseconds(table)
    reads.log(view, [k.name for k in picked], table.num_rows)
    return table


@dataclass(frozen=True)
class _Picked:
    name: str
    key: keys.Key


def _keys(lib: Library, view: str, scope: Scope) -> list[_Picked]:
    """The stored keys of ``view`` within ``scope``, in key order; a named symbol with nothing stored
    is an error, since a typo would otherwise answer with an empty frame."""
    parse = keys.parse_tick_key if view == TICK_VIEW else keys.parse_bar_key
    listed = [_Picked(name, parse(name)) for name in sorted(lib.list_symbols())]
    if scope.symbols is not None:
        asked = {validate_symbol(s) for s in scope.symbols}
        held = {p.key.symbol for p in listed}
        missing = sorted(asked - held)
        if missing:
            shown = ", ".join(sorted(held)[:20]) or "nothing yet"
            raise UnknownSymbol(f"{view} holds no {', '.join(missing)} (it holds {shown})")
        listed = [p for p in listed if p.key.symbol in asked]
    if scope.intervals is not None:
        wanted = {i.lower() for i in scope.intervals}
        listed = [p for p in listed if p.key.interval.lower() in wanted]
    first, last = scope.days()
    return [
        p for p in listed if (first is None or p.key.day >= first) and (last is None or p.key.day <= last)
    ]


def _stored_columns(view: str) -> set[str]:
    names = TICK_COLUMNS if view == TICK_VIEW else BAR_COLUMNS
    return {n for n in names if n not in ("timestamp", "symbol")}


def _with_keys(table: pa.Table, picked: _Picked, view: str) -> pa.Table:
    """An ArcticDB read with the columns its key holds (symbol, day, and a bar view's interval)."""
    rows = table.num_rows
    table = table.append_column("symbol", pa.array([picked.key.symbol] * rows, pa.string()))
    table = table.append_column("day", pa.array([picked.key.day] * rows, pa.date32()))
    if view != TICK_VIEW:
        table = table.append_column("interval", pa.array([picked.key.interval] * rows, pa.string()))
    return table.drop_columns([c for c in table.column_names if c.startswith("__")])


def _microseconds(table: pa.Table) -> pa.Table:
    """Times as DuckDB's native TIMESTAMPTZ (microseconds, the feed's resolution), which its time
    functions and its pandas conversion handle in the session's time zone."""
    fields = [
        pa.field(f.name, pa.timestamp("us", tz=f.type.tz)) if pa.types.is_timestamp(f.type) else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields), safe=False)


def _empty(view: str, wanted: list[str] | None) -> pa.Table:
    """No key matched: an empty table with the view's columns, so the query still plans."""
    columns = TICK_COLUMNS if view == TICK_VIEW else BAR_COLUMNS
    frame = empty_frame(columns)
    if wanted is not None:
        frame = frame[["timestamp", "symbol", *wanted]]
    frame["day"] = pd.Series(dtype="object")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.set_column(table.column_names.index("day"), "day", pa.array([], pa.date32()))
    if view != TICK_VIEW:
        table = table.append_column("interval", pa.array([], pa.string()))
    return table


def _quality(scope: Scope, settings: Settings, reads: Reads) -> pa.Table:
    """Check results from the catalog with each day's score (one row per check, latest run)."""
    first, last = scope.days()
    symbols = sorted(scope.symbols) if scope.symbols is not None else [None]
    with open_catalog(settings.resolved_catalog_url) as catalog:
        parts = [catalog.validation_results(s, start=first, end=last) for s in symbols]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    frame = frame.rename(columns={"check_name": "check"})
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in QUALITY_COLUMNS})
    penalty = [PENALTIES.get((t, s), 0) for t, s in zip(frame["tier"], frame["status"], strict=True)]
    frame["score"] = (
        100 - pd.Series(penalty, index=frame.index).groupby([frame["symbol"], frame["day"]]).transform("sum")
    ).clip(lower=0)
    for column in ("metrics", "details"):
        frame[column] = [json.dumps(v, default=str) for v in frame[column]]
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    out = frame[list(QUALITY_COLUMNS)]
    reads.log(
        QUALITY_VIEW, sorted({f"{s}/{d}" for s, d in zip(out["symbol"], out["day"], strict=True)}), len(out)
    )
    return pa.Table.from_pandas(out, preserve_index=False)
